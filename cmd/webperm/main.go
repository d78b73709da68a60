// Command webperm audits the permissions and ownership of web roots.
//
// Output rules: the report (the real output) goes to stdout or to -o FILE; everything for people
// (errors, hints, notices) goes to stderr, prefixed "webperm: ", lower-case. The exit status
// means one thing each; run() maps errors to it in one place.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
