package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/safefile"
)

// sitesLimit caps a --sites-from file: a million roots of 4 KiB paths.
const sitesLimit = safefile.PlanLimit

// readSites reads the roots a --sites-from file lists: one absolute path a line, in order,
// spaces around it trimmed; blank lines are skipped, and so are comments: a line whose first
// character past the spaces is #, or what follows a # that follows a space or tab (a path with
// " #" in it cannot be listed; a # elsewhere is the path's). A relative path is refused with the
// file and line: a cron job's working directory is no place to find web roots in. name "-" is
// stdin. trusted reads the file as plan and fix read their policy: a regular file of the user
// running webperm, in a directory no one else controls, since it names what root will change.
func readSites(name string, stdin io.Reader, trusted bool) ([]string, error) {
	data, err := readSitesFile(name, stdin, trusted)
	if err != nil {
		return nil, err
	}
	shown := report.Escape(name)
	if name == "-" {
		shown = "stdin"
	}
	var roots []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(stripComment(sc.Text()))
		switch {
		case s == "":
			continue
		case !filepath.IsAbs(s):
			return nil, withHint(fmt.Errorf("--sites-from %s:%d: %s is a relative path", shown, line, report.Escape(s)), "list each web root by its absolute path, such as /var/www/html: a cron job's working directory is not the sites'")
		}
		roots = append(roots, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--sites-from %s: %w", shown, err)
	}
	if len(roots) == 0 {
		return nil, withHint(fmt.Errorf("--sites-from %s lists no root", shown), "list one web root a line, such as /var/www/html; # begins a comment")
	}
	return roots, nil
}

func readSitesFile(name string, stdin io.Reader, trusted bool) ([]byte, error) {
	if name == "-" {
		data, err := safefile.ReadAll(stdin, sitesLimit)
		if err != nil {
			return nil, fmt.Errorf("--sites-from stdin: %w", err)
		}
		return data, nil
	}
	if trusted {
		f, err := openTrusted(name, "the sites file")
		if err != nil {
			return nil, withHint(err, "keep the sites file plan and fix read where only root can write it, e.g. /etc/webperm/sites")
		}
		defer f.Close()
		return safefile.ReadAll(f, sitesLimit)
	}
	data, err := safefile.ReadRegular(name, sitesLimit)
	if err != nil {
		err = fmt.Errorf("--sites-from %s: %w", fileName(name), err)
		if errors.Is(err, safefile.ErrNotRegular) || errors.Is(err, safefile.ErrTooLarge) {
			return nil, withHint(err, "--sites-from names a text file that lists one web root a line, or - for stdin")
		}
		return nil, withHint(err, "check the path; --sites-from names a text file that lists one web root a line")
	}
	return data, nil
}

// stripComment is line without its comment: from a # that begins it, past spaces, or that
// follows a space or tab.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (strings.TrimSpace(line[:i]) == "" || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}
