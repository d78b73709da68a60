package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/safefile"
)

// writeOutput writes data, the report or plan (what), to stdout, or to output where one is named
// (-o): "-", /dev/stdout and /dev/stderr are the command's own streams, /dev/fd/N an inherited
// descriptor; a file is replaced by a new one of the running user's with mode perm, a device or
// pipe written through (safefile.WriteFile).
func writeOutput(stdout, stderr io.Writer, output, what string, data safefile.Content, perm fs.FileMode) error {
	var err error
	switch fd, ok := safefile.Descriptor(output); {
	case writesStdout(output):
		err = writeTo(stdout, data)
	case ok && fd == 2:
		err = writeTo(stderr, data)
	default:
		err = safefile.WriteFunc(output, perm, data)
	}
	if err == nil {
		return nil
	}
	err = fmt.Errorf("writing %s to %s: %w", what, report.Escape(displayName(output)), err)
	var de *safefile.DirError
	switch {
	case errors.Is(err, safefile.ErrSymlink):
		return withHint(err, "name the file itself, or write to stdout with -o -")
	case errors.As(err, &de):
		return withHint(err, "as root, write where no other user can change what is written, e.g. under /root, or to stdout with -o -")
	case errors.Is(err, safefile.ErrNoReader):
		return withHint(err, "start the reader first, or write to a file")
	case errors.Is(err, safefile.ErrNotRegular):
		return withHint(err, "-o names a file to replace, a device such as /dev/null, or your own named pipe")
	}
	return err
}

// writeTo writes data to w, a stream of the command's, in large writes.
func writeTo(w io.Writer, data safefile.Content) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := data(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// writesStdout says whether output, the value of -o, means the command's stdout: none, "-",
// /dev/stdout, /dev/fd/1.
func writesStdout(output string) bool {
	fd, ok := safefile.Descriptor(output)
	return output == "" || ok && fd == 1
}

// displayName is output as messages name it.
func displayName(output string) string {
	if output == "" {
		return "stdout"
	}
	return output
}

// fileName is a file's name as messages give it: escaped, and "" visible.
func fileName(name string) string {
	if name == "" {
		return `""`
	}
	return report.Escape(name)
}

// pathFlags are the flags that name a file: "" given to one is refused, not taken for the
// flag's default (stdout, no policy, a fresh audit, the default journal, the host's root).
var pathFlags = []string{"policy", "output", "plan", "journal", "root", "textfile-dir", "lock", "sites-from"}

// refuseEmptyPaths refuses "" as a PATH or the value of any of c's pathFlags: it must never come
// to mean the current directory, nor a flag's default.
func refuseEmptyPaths(c *cobra.Command, args []string) error {
	if slices.Contains(args, "") {
		return emptyPathError(c)
	}
	var err error
	c.Flags().VisitAll(func(f *pflag.Flag) {
		for _, name := range pathFlags {
			if err == nil && f.Name == name && f.Changed && f.Value.String() == "" {
				err = withHint(fmt.Errorf("--%s: %w", name, safefile.ErrEmptyPath), "--%s wants a file name; leave the flag out for its default", name)
			}
		}
	})
	return err
}
