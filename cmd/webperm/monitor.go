package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/safefile"
)

// textfileName is the file --textfile-dir writes: node_exporter's textfile collector reads every
// *.prom file of its directory.
const textfileName = "webperm.prom"

// textfileLimit caps how much of an earlier metrics file webperm reads for its last success:
// one of a few thousand roots is a few MiB.
const textfileLimit = 64 << 20

// errNotTextfileDir is the error for a --textfile-dir that is not a directory.
var errNotTextfileDir = errors.New("not a directory")

// textfileError is a failure to write the metrics: the run's failure is not written there again.
type textfileError struct{ error }

func (e *textfileError) Unwrap() error { return e.error }

// checkTextfileDir checks, before an audit that may take minutes, that the metrics can be
// written to dir: a directory, no other user's as root (safefile.CheckDir).
func checkTextfileDir(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = errNotTextfileDir
	}
	if err == nil && os.Geteuid() == 0 {
		err = safefile.CheckDir(dir)
	}
	if err != nil {
		return describeTextfileError(dir, err)
	}
	return nil
}

// writeTextfile replaces dir's metrics file with data, atomically, mode 0644.
func writeTextfile(dir string, data safefile.Content) error {
	if err := safefile.WriteFunc(filepath.Join(dir, textfileName), safefile.ReportMode, data); err != nil {
		return describeTextfileError(dir, err)
	}
	return nil
}

func describeTextfileError(dir string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	err = &textfileError{fmt.Errorf("--textfile-dir: writing the metrics to %s: %w", fileName(filepath.Join(dir, textfileName)), err)}
	var de *safefile.DirError
	switch {
	case errors.As(err, &de):
		return withHint(err, "as root, webperm writes only where no other user could redirect the write: give a directory of root's on a way of root's, such as /var/lib/webperm, and link webperm.prom there from node_exporter's directory (on Debian /var/lib/prometheus is the prometheus user's)")
	case errors.Is(err, safefile.ErrSymlink):
		return withHint(err, "remove the symlink: webperm replaces %s with a file of its own", textfileName)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, errNotTextfileDir):
		return withHint(err, "--textfile-dir names the directory that node_exporter's --collector.textfile.directory reads, which must exist")
	}
	return err
}

// auditFailed tells the monitoring an audit's command line asked for that the audit failed with
// err: with --textfile-dir it writes the metrics of a failed run, keeping the time of the last
// success from the file it replaces (unless another run holds --lock: the metrics are its own); with --format nagios it writes the UNKNOWN line where the
// report would have gone (stdout, where -o cannot take it), and says so. The flags are read from
// args, as an error may have stopped their parsing before it reached them.
func auditFailed(f *pflag.FlagSet, args []string, stdout, stderr io.Writer, err error) (nagios bool) {
	var te *textfileError
	// A run kept out by --lock leaves the metrics to the run that holds it, which is auditing.
	if dir := flagValue(f, args, "textfile-dir"); dir != "" && !errors.As(err, &te) && !errors.Is(err, errLockHeld) {
		opt := report.Options{Run: report.Run{Finished: time.Now(), LastSuccess: lastSuccess(dir, stderr)}}
		if err := writeTextfile(dir, func(w io.Writer) error { return report.PrometheusFailed(w, opt) }); err != nil {
			printError(stderr, err)
		}
	}
	if flagValue(f, args, "format") != "nagios" {
		return false
	}
	line := func(w io.Writer) error { return report.NagiosError(w, err) }
	if err := writeOutput(stdout, stderr, flagValue(f, args, "output"), "the nagios line", line, safefile.ReportMode); err != nil {
		printError(stderr, err)
		line(stdout)
	}
	return true
}

// lastSuccess is when an audit last succeeded, as the metrics file in dir says: the zero time
// where there is none, or it says nothing readable (which stderr is told: a garbled file must
// not fail the run, but should not pass unseen either).
func lastSuccess(dir string, stderr io.Writer) time.Time {
	name := filepath.Join(dir, textfileName)
	f, err := safefile.OpenRegular(name, textfileLimit, false)
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}
	}
	var t time.Time
	if err == nil {
		t, err = report.PrometheusLastSuccess(f)
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(stderr, "webperm: notice: %s: %s: webperm_last_success_timestamp_seconds is 0\n", fileName(name), report.Visible(err.Error()))
	}
	return t
}

// flagValue is the value the last --name in args gives, read as pflag reads f's flags, or "": a
// flag's value is the rest of its argument (--name=v, -nv, -n=v) or the next argument; a
// shorthand flag that takes no value lets the next one follow in the same argument (-qf v).
func flagValue(f *pflag.FlagSet, args []string, name string) string {
	value := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		var fl *pflag.Flag
		var v string
		inline := false
		switch {
		case a == "--":
			return value
		case strings.HasPrefix(a, "--"):
			var n string
			n, v, inline = strings.Cut(a[2:], "=")
			fl = f.Lookup(n)
		case strings.HasPrefix(a, "-"):
			for j := 1; j < len(a); j++ {
				if fl = f.ShorthandLookup(a[j : j+1]); fl == nil || fl.NoOptDefVal == "" {
					v = strings.TrimPrefix(a[j+1:], "=")
					inline = v != ""
					break
				}
			}
		}
		if fl == nil || fl.NoOptDefVal != "" {
			continue
		}
		if !inline && i+1 < len(args) {
			i++
			v = args[i]
		}
		if fl.Name == name {
			value = v
		}
	}
	return value
}
