package main

import (
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/report"
	"golang.org/x/sys/unix"
)

// Progress shows a person at a terminal that a long audit is alive: one line on stderr, rewritten
// in place a few times a second, with the entries examined so far, their rate and the directory
// the walk is in. It appears only once the walk has lasted progressAfter, so a quick audit
// prints nothing, and only where stderr is a terminal: a pipe, a file or cron's mail get
// nothing. It is erased before the report is written.
// Variables for tests, which show it from the start and often.
var (
	progressAfter = time.Second
	progressEvery = 250 * time.Millisecond
)

// progressSource is what a meter reads: an *audit.Progress.
type progressSource interface {
	Entries() int64
	Dir() string
}

// progressMeter writes progress lines to a terminal.
type progressMeter struct {
	w     io.Writer
	width int // the terminal's columns
	start time.Time
	now   func() time.Time
	after time.Duration // nothing is shown before the walk has lasted this long
	shown bool          // a line is on the terminal, to be erased
}

// show writes p's progress over the line shown before, once the walk has lasted m.after.
func (m *progressMeter) show(p progressSource) {
	elapsed := m.now().Sub(m.start)
	if elapsed < m.after {
		return
	}
	m.shown = true
	fmt.Fprintf(m.w, "\r%s\x1b[K", progressLine(p.Entries(), elapsed, p.Dir(), m.width))
}

// clear erases the line shown, if any, and leaves the cursor at its start.
func (m *progressMeter) clear() {
	if m.shown {
		io.WriteString(m.w, "\r\x1b[K")
		m.shown = false
	}
}

// progressLine is the progress of a walk that has examined entries in elapsed, and is in dir,
// escaped, in at most width-1 columns (a line that fills the last column wraps on some
// terminals): the directory loses its beginning where the line is too long.
func progressLine(entries int64, elapsed time.Duration, dir string, width int) string {
	rate := int64(0)
	if s := elapsed.Seconds(); s > 0 {
		rate = int64(float64(entries) / s)
	}
	line := fmt.Sprintf("webperm: %d entries, %d/s", entries, rate)
	room := width - 1 - utf8.RuneCountInString(line) - len(", in ")
	if dir == "" || room < 8 {
		return cutRunes(line, width-1)
	}
	esc := report.Escape(dir)
	if n := utf8.RuneCountInString(esc); n > room {
		r := []rune(esc)
		esc = "…" + string(r[n-room+1:])
	}
	return line + ", in " + esc
}

// cutRunes is s cut to at most n runes.
func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// startProgress shows an audit's progress on stderr while it runs, where stderr is a terminal
// (not under TERM=dumb, which cannot erase a line): it returns the Progress for the audit to keep
// up to date, nil where nothing is shown, and the function that stops it and erases the line,
// before anything else is written.
func startProgress(stderr io.Writer) (*audit.Progress, func()) {
	f, ok := stderr.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return nil, func() {}
	}
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return nil, func() {}
	}
	width := 80
	if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		width = int(ws.Col)
	}
	p := &audit.Progress{}
	m := &progressMeter{w: f, width: width, start: time.Now(), now: time.Now, after: progressAfter}
	ticker := time.NewTicker(progressEvery)
	return p, m.run(p, ticker.C, ticker.Stop)
}

// run shows p at each tick until the function it returns is called, which erases the line and
// returns once the meter has stopped writing.
func (m *progressMeter) run(p progressSource, tick <-chan time.Time, stopTicks func()) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-tick:
				m.show(p)
			case <-done:
				stopTicks()
				m.clear()
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
