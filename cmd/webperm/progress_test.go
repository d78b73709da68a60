package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

func TestProgressLine(t *testing.T) {
	for _, tt := range []struct {
		name    string
		entries int64
		elapsed time.Duration
		dir     string
		width   int
		want    string
	}{
		{"fits", 1500, 2 * time.Second, "/srv/www/site/wp-content", 80, "webperm: 1500 entries, 750/s, in /srv/www/site/wp-content"},
		{"the directory loses its beginning", 1500, 2 * time.Second, "/srv/www/site/wp-content/uploads/2024", 50, "webperm: 1500 entries, 750/s, in …nt/uploads/2024"},
		{"escaped", 10, time.Second, "/srv/www/a\nb\x1b[2J", 80, `webperm: 10 entries, 10/s, in "/srv/www/a\nb\x1b[2J"`},
		{"no room for the directory", 10, time.Second, "/srv/www", 30, "webperm: 10 entries, 10/s"},
		{"no room at all", 10, time.Second, "/srv/www", 12, "webperm: 10"},
		{"before the first directory", 1, 0, "", 80, "webperm: 1 entries, 0/s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := progressLine(tt.entries, tt.elapsed, tt.dir, tt.width)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n >= tt.width {
				t.Errorf("%d runes on a terminal %d wide: the last column must stay free", n, tt.width)
			}
		})
	}
}

// fakeProgress is an audit's progress as a meter reads it, set by the test.
type fakeProgress struct {
	entries int64
	dir     string
}

func (p *fakeProgress) Entries() int64 { return p.entries }
func (p *fakeProgress) Dir() string    { return p.dir }

func TestProgressMeter(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(1000, 0)
	m := &progressMeter{w: &out, width: 80, start: now, now: func() time.Time { return now }, after: time.Second}
	p := &fakeProgress{500, "/srv/www/site/a"}
	m.clear()
	now = now.Add(500 * time.Millisecond)
	m.show(p)
	if out.Len() != 0 {
		t.Fatalf("before a second has passed, the meter wrote %q", out.String())
	}
	now = now.Add(time.Second) // 1.5 s
	m.show(p)
	p.entries, p.dir = 3000, "/srv/www/site/b"
	now = now.Add(500 * time.Millisecond) // 2 s
	m.show(p)
	m.clear()
	m.clear()
	want := "\rwebperm: 500 entries, 333/s, in /srv/www/site/a\x1b[K" +
		"\rwebperm: 3000 entries, 1500/s, in /srv/www/site/b\x1b[K" +
		"\r\x1b[K" // erased once: the report that follows begins on a clean line
	if out.String() != want {
		t.Errorf("the terminal got\n%q\nwant\n%q", out.String(), want)
	}

	// run shows the progress at each tick, and its stop erases the line before it returns.
	out.Reset()
	tick := make(chan time.Time)
	stopped := false
	stop := m.run(p, tick, func() { stopped = true })
	tick <- now
	tick <- now
	stop()
	line := "\rwebperm: 3000 entries, 1500/s, in /srv/www/site/b\x1b[K"
	if want := line + line + "\r\x1b[K"; out.String() != want || !stopped {
		t.Errorf("run wrote %q (ticker stopped: %v), want %q", out.String(), stopped, want)
	}
}

// auditShowingProgress audits a tree in-process with stderr, a real file, showing progress from
// the start, every millisecond; it returns what the stderr's reader got.
func auditShowingProgress(t *testing.T, stderr *os.File, reader io.Reader) (stdout, got string) {
	t.Helper()
	defer func(after, every time.Duration) { progressAfter, progressEvery = after, every }(progressAfter, progressEvery)
	progressAfter, progressEvery = 0, time.Millisecond
	read := make(chan string)
	go func() {
		b, _ := io.ReadAll(reader)
		read <- string(b)
	}()
	var out bytes.Buffer
	code := run([]string{"audit", "--root", demoSysroot, "--web-user", "www-data", "--color", "never", tree(t, manyFiles(30, 100, "0644"))}, &out, stderr)
	stderr.Close()
	got = <-read
	if code != exitClean && code != exitFindings {
		t.Fatalf("exit %d\n%s", code, got)
	}
	return out.String(), got
}

// On a pipe (cron's mail, 2>log, a CI runner) progress never shows, however long the walk.
func TestProgressNeverOnAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, got := auditShowingProgress(t, w, r); got != "" {
		t.Errorf("stderr, a pipe, got %q", got)
	}
}

// On a terminal (a pseudo-terminal here), the line is rewritten in place, never longer than the
// terminal is wide, and erased at the end.
func TestProgressOnATerminal(t *testing.T) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer master.Close()
	mfd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 60}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TERM", "xterm")
	// The master reads until the slave is closed: EIO then ends io.ReadAll.
	stdout, got := auditShowingProgress(t, slave, master)
	line := regexp.MustCompile(`^\rwebperm: \d+ entries, \d+/s(, in [^\r\x1b]*)?\x1b\[K$`)
	lines := strings.SplitAfter(strings.TrimSuffix(got, "\r\x1b[K"), "\x1b[K")
	if got == "" || !strings.HasSuffix(got, "\r\x1b[K") || lines[0] == "" {
		t.Fatalf("the terminal got %q: want progress lines, then the line erased", got)
	}
	for _, l := range lines[:len(lines)-1] {
		if !line.MatchString(l) || utf8.RuneCountInString(l)-len("\r\x1b[K") >= 60 {
			t.Errorf("progress line %q is not one line of less than 60 columns", l)
		}
	}
	if lines[len(lines)-1] != "" {
		t.Errorf("after the last progress line: %q", lines[len(lines)-1])
	}
	if !strings.HasPrefix(stdout, "webperm audit\n") {
		t.Errorf("the report on stdout begins %q", stdout[:min(len(stdout), 40)])
	}
}
