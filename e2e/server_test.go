package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	startTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
)

// server describes one web server: how to configure and start it, and how it differs.
type server struct {
	name string // the subtest's name
	tool string // the program, a key of tools
	// readsHtaccess: with AllowOverride All, Apache reads the .htaccess of every directory on a
	// request's path and refuses the request when one cannot be read.
	readsHtaccess bool
	want          func(outcome) int
	config        func(t *testing.T, s setup) string
	args          func(s setup, conf string) []string
	// logMarkers: the error log holds one of them when the file system, not the configuration,
	// refused a request.
	logMarkers []string
}

// setup is where one server runs: its own directory (config, logs, pid file, temporary files), its
// port and the docroot it serves.
type setup struct {
	bin, dir, docroot string
	port              int
}

func (s setup) errorLog() string { return filepath.Join(s.dir, "error.log") }
func (s setup) pidFile() string  { return filepath.Join(s.dir, "server.pid") }
func (s setup) stderr() string   { return filepath.Join(s.dir, "stderr") }
func (s setup) addr() string     { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

var servers = []server{
	{
		name:   "nginx",
		tool:   "nginx",
		want:   func(o outcome) int { return o.nginx },
		config: nginxConfig,
		args: func(s setup, conf string) []string {
			// -e: nginx logs to its built-in error log until it has read the config.
			return []string{"-c", conf, "-p", s.dir + "/", "-e", s.errorLog()}
		},
		logMarkers: []string{"(13: Permission denied)"},
	},
	{
		name:          "apache",
		tool:          "apache2",
		readsHtaccess: true,
		want:          func(o outcome) int { return o.apache },
		config:        apacheConfig,
		args:          func(_ setup, conf string) []string { return []string{"-f", conf, "-DFOREGROUND"} },
		// AH00035: a directory on the path is not searchable; AH00132: the file is not readable;
		// AH00529: a .htaccess on the path cannot be read.
		logMarkers: []string{"AH00035", "AH00132", "AH00529"},
	},
}

// nginxConfig keeps everything nginx writes in the server's directory. It has no deny rule for
// dotfiles: the file system, not the configuration, is to decide what answers 403.
func nginxConfig(t *testing.T, s setup) string {
	return expand(t, s, `# webperm's e2e test
user @USER@ @USER@;
daemon off;
master_process on;
worker_processes 1;
pid "@PIDFILE@";
error_log "@ERRORLOG@";
events {
	worker_connections 64;
}
http {
	access_log off;
	client_body_temp_path "@DIR@/client_body";
	proxy_temp_path "@DIR@/proxy";
	fastcgi_temp_path "@DIR@/fastcgi";
	uwsgi_temp_path "@DIR@/uwsgi";
	scgi_temp_path "@DIR@/scgi";
	server {
		listen @ADDR@;
		root "@DOCROOT@";
		autoindex off;
	}
}
`)
}

// apacheConfig names every path itself, so Debian's envvars (APACHE_RUN_DIR...) are not needed.
// It leaves out the usual <FilesMatch "^\.ht"> Require all denied: the file system, not the
// configuration, is to decide what answers 403, and with it an unreadable .htaccess would be
// refused whether or not it could be read.
func apacheConfig(t *testing.T, s setup) string {
	return expand(t, s, `# webperm's e2e test
ServerRoot "@DIR@"
@MODULES@
User @USER@
Group @USER@
Listen @ADDR@
ServerName 127.0.0.1
PidFile "@PIDFILE@"
ErrorLog "@ERRORLOG@"
DefaultRuntimeDir "@DIR@"
Mutex "file:@DIR@" default
DocumentRoot "@DOCROOT@"
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory "@DOCROOT@">
	AllowOverride All
	Require all granted
	Options FollowSymLinks
</Directory>
`, "@MODULES@", apacheModules(t, s.bin))
}

// apacheModules loads what the configuration uses, unless the binary has it built in.
func apacheModules(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "-l").CombinedOutput()
	if err != nil {
		t.Fatalf("%s -l: %v\n%s", bin, err, out)
	}
	var lines []string
	for _, m := range []struct{ name, source string }{
		{"mpm_event", "event.c"},
		{"unixd", "mod_unixd.c"}, // User and Group
		{"authz_core", "mod_authz_core.c"},
		{"dir", "mod_dir.c"},
	} {
		if strings.Contains(string(out), m.source) {
			continue
		}
		so := filepath.Join("/usr/lib/apache2/modules", "mod_"+m.name+".so")
		if _, err := os.Stat(so); err != nil {
			t.Fatalf("apache module %s: %v", m.name, err)
		}
		lines = append(lines, fmt.Sprintf("LoadModule %s_module %s", m.name, so))
	}
	return strings.Join(lines, "\n")
}

// expand fills a configuration template, which quotes the paths itself.
func expand(t *testing.T, s setup, tmpl string, more ...string) string {
	t.Helper()
	for _, p := range []string{s.dir, s.docroot} {
		if strings.ContainsAny(p, "\"\\\n$") {
			t.Fatalf("cannot quote %q in a server configuration", p)
		}
	}
	pairs := append([]string{"@USER@", webUser, "@PIDFILE@", s.pidFile(), "@ERRORLOG@", s.errorLog(), "@DIR@", s.dir, "@DOCROOT@", s.docroot, "@ADDR@", s.addr()}, more...)
	return strings.NewReplacer(pairs...).Replace(tmpl)
}

// running is a started server.
type running struct {
	*server
	setup
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
	client *http.Client
}

// start starts s on docroot and registers its stop with t, whatever happens after.
func (s *server) start(t *testing.T, tl tools, docroot string) *running {
	t.Helper()
	su := setup{bin: tl[s.tool], dir: t.TempDir(), docroot: docroot, port: freePort(t)}
	conf := filepath.Join(su.dir, s.tool+".conf")
	if err := os.WriteFile(conf, []byte(s.config(t, su)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(su.stderr())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the server has its own copy
	cmd := exec.Command(su.bin, s.args(su, conf)...)
	cmd.Stdout, cmd.Stderr = out, out
	// A group of its own lets stop reach workers that outlive their master; Pdeathsig stops the
	// server if the test binary dies without running cleanups (go test -timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", s.name, err)
	}
	r := &running{server: s, setup: su, cmd: cmd, exited: make(chan struct{}), client: newClient()}
	go func() {
		_ = cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() { r.stop(t) })
	r.waitListening(t)
	return r
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newClient() *http.Client {
	return &http.Client{
		Timeout:       5 * time.Second,
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (r *running) waitListening(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		if c, err := net.DialTimeout("tcp", r.addr(), 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		select {
		case <-r.exited:
			t.Fatalf("%s exited (%v) before listening on %s\n%s", r.name, r.cmd.ProcessState, r.addr(), r.logs())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within %v\n%s", r.name, r.addr(), startTimeout, r.logs())
		}
	}
}

// stop ends the server started and everything it forked, by pid: the server's process group is
// its pid, and holds any worker that outlived its master.
func (r *running) stop(t *testing.T) {
	pid := r.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM) // the master stops its workers
	select {
	case <-r.exited:
	case <-time.After(stopTimeout):
		t.Errorf("%s (pid %d) did not stop within %v of SIGTERM; killing it", r.name, pid, stopTimeout)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-r.exited
	}
	if syscall.Kill(-pid, syscall.SIGKILL) == nil {
		t.Logf("%s: killed processes left in its group %d", r.name, pid)
	}
	r.stopDaemonized(t, pid)
}

// stopDaemonized stops a server that daemonized despite its configuration, leaving the process
// group: its pid file names it. Only a process running the server's binary is signalled.
func (r *running) stopDaemonized(t *testing.T, started int) {
	b, err := os.ReadFile(r.pidFile())
	if err != nil {
		return // the server removes it when it stops
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid == started || !runs(pid, r.bin) {
		return
	}
	t.Errorf("%s left its process group: pid file %s names pid %d; stopping it", r.name, r.pidFile(), pid)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(stopTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// runs reports whether process pid runs the program bin.
func runs(pid int, bin string) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false
	}
	want, err := filepath.EvalSymlinks(bin)
	return err == nil && exe == want
}

// get returns the status the server answers for the file at rel, relative to the docroot.
func (r *running) get(rel string) (int, error) {
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	resp, err := r.client.Get("http://" + r.addr() + "/" + strings.Join(parts, "/"))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// answers asks for every file and returns the set that answered 403. Any status but 200 and 403
// is an error: this test is about permissions only.
func (r *running) answers(t *testing.T, files []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var odd []string
	for _, rel := range files {
		code, err := r.get(rel)
		switch {
		case err != nil:
			odd = append(odd, fmt.Sprintf("%s: %v", rel, err))
		case code == http.StatusForbidden:
			out[rel] = true
		case code != http.StatusOK:
			odd = append(odd, fmt.Sprintf("%s: %d", rel, code))
		}
	}
	if len(odd) > 0 {
		t.Errorf("%s answered neither 200 nor 403:\n\t%s\n%s", r.name, strings.Join(odd, "\n\t"), r.logs())
	}
	return out
}

// requireServing fails the test unless the server answers 200 for a plain readable file: without
// that, none of its 403s means anything.
func (r *running) requireServing(t *testing.T, rel string) {
	t.Helper()
	code, err := r.get(rel)
	if err != nil || code != http.StatusOK {
		t.Fatalf("%s does not serve %s (status %d, %v)\n%s", r.name, rel, code, err, r.logs())
	}
}

// requireWorkersAs fails the test unless every process the server forked runs as www-data with
// the test's group: answers from a worker that kept root's rights would prove nothing.
func (r *running) requireWorkersAs(t *testing.T, uid, gid, supplementary int) {
	t.Helper()
	var seen []string
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		workers, err := children(r.cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		seen = seen[:0]
		ok := len(workers) > 0
		for _, w := range workers {
			seen = append(seen, w.String())
			ok = ok && w.runsAs(uid, gid, supplementary)
		}
		if ok {
			return
		}
	}
	t.Fatalf("%s's workers do not all run as uid %d, gid %d with group %d:\n\t%s", r.name, uid, gid, supplementary, strings.Join(seen, "\n\t"))
}

// logs is what the server said: its stderr and the end of its error log.
func (r *running) logs() string {
	return fmt.Sprintf("%s stderr:\n%s\n%s error log (end):\n%s", r.name, tail(r.stderr(), 20), r.name, tail(r.errorLog(), 40))
}

func (r *running) errorLogHasMarker() bool {
	b, _ := os.ReadFile(r.errorLog())
	return slices.ContainsFunc(r.logMarkers, func(m string) bool { return strings.Contains(string(b), m) })
}

// tail is the last n lines of a file, or why there are none.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "\t(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return "\t" + strings.Join(lines[max(0, len(lines)-n):], "\n\t")
}

// proc is a process's identity, from /proc/PID/status.
type proc struct {
	pid, ppid          int
	uids, gids, groups []int
}

func (p proc) String() string {
	return fmt.Sprintf("pid %d: uids %v, gids %v, groups %v", p.pid, p.uids, p.gids, p.groups)
}

func (p proc) runsAs(uid, gid, supplementary int) bool {
	all := func(ids []int, id int) bool {
		return len(ids) > 0 && !slices.ContainsFunc(ids, func(x int) bool { return x != id })
	}
	return all(p.uids, uid) && all(p.gids, gid) && slices.Contains(p.groups, supplementary)
}

// children lists the processes whose parent is pid.
func children(pid int) ([]proc, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(n); ok && p.ppid == pid {
			out = append(out, p)
		}
	}
	return out, nil
}

// readProc reads a process's identity; false when it is gone or unreadable.
func readProc(pid int) (proc, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return proc{}, false
	}
	p := proc{pid: pid, ppid: -1}
	for _, line := range strings.Split(string(b), "\n") {
		key, val, _ := strings.Cut(line, ":")
		ids := ints(strings.Fields(val))
		switch key {
		case "PPid":
			if len(ids) == 1 {
				p.ppid = ids[0]
			}
		case "Uid":
			p.uids = ids
		case "Gid":
			p.gids = ids
		case "Groups":
			p.groups = ids
		}
	}
	return p, true
}

func ints(fields []string) []int {
	out := make([]int, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}
