package audit

import (
	"cmp"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/internal/safefile"
)

// Detect looks for the identities the web server and PHP-FPM run as, so an audit needs no
// --web-user on a typical host. For each role, running worker processes under procDir come first
// (what runs is what decides access; skipped when procDir is ""), then configuration files of the
// system below sysroot ("/" for the running system). It never fails: unreadable or malformed
// evidence is no evidence, and the caller falls back to distribution defaults.
func Detect(fsys afero.Fs, sysroot, procDir string) access.Detected {
	var d access.Detected
	if procDir != "" {
		d.Web, d.PHP = detectProcesses(fsys, procDir)
	}
	if d.Web == nil {
		d.Web = detectWebConfig(fsys, sysroot)
	}
	if d.PHP == nil {
		d.PHP = detectPHPConfig(fsys, sysroot)
	}
	return d
}

// webProcessNames are the command names of web server workers, in the order webperm prefers them
// when several run as different users. nginx first, because where nginx and Apache both run,
// nginx is usually the front end that serves the static files straight from the web root; then
// the Debian and the Red Hat names of Apache; then LiteSpeed.
var webProcessNames = []string{"nginx", "apache2", "httpd", "litespeed", "lshttpd"}

// detectProcesses returns the first non-root web server and PHP-FPM workers under procDir. Masters
// run as root and only fork the workers, so only a non-root process shows the identity that reads
// files; the lowest pid is taken so the answer does not depend on directory order.
func detectProcesses(fsys afero.Fs, procDir string) (web, php *access.Candidate) {
	webByName := map[string]*access.Candidate{}
	for _, p := range listPIDs(fsys, procDir) {
		// Processes come and go while /proc is read: a vanished or unreadable one is skipped.
		data, err := safefile.ReadProcFs(fsys, filepath.Join(procDir, p.dir, "status"), safefile.ConfigLimit)
		if err != nil {
			continue
		}
		st, ok := parseProcStatus(string(data))
		if !ok || st.uid == 0 {
			continue
		}
		c := &access.Candidate{
			User:     strconv.FormatUint(uint64(st.uid), 10),
			Group:    strconv.FormatUint(uint64(st.gid), 10),
			Source:   "process",
			Evidence: fmt.Sprintf("%s worker, pid %d", st.name, p.pid),
		}
		if isPHPFPM(st.name) && php == nil {
			php = c
		} else if _, seen := webByName[st.name]; !seen && slices.Contains(webProcessNames, st.name) {
			webByName[st.name] = c
		}
	}
	for _, name := range webProcessNames {
		if c := webByName[name]; c != nil {
			return c, php
		}
	}
	return nil, php
}

// isPHPFPM says whether a command name is PHP-FPM's: php-fpm, php-fpm8.2 (Debian), php-fpm82
// (Alpine) or php8.2-fpm.
func isPHPFPM(name string) bool {
	rest, ok := strings.CutPrefix(name, "php")
	return ok && strings.HasPrefix(strings.TrimLeft(rest, "0123456789."), "-fpm")
}

type procEntry struct {
	pid uint64
	dir string // the name as listed, so a pid is read where it was found
}

// listPIDs returns the process directories of procDir in numeric order. Other entries (self,
// sys, ...) are not processes.
func listPIDs(fsys afero.Fs, procDir string) []procEntry {
	d, err := fsys.Open(procDir)
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1) // a partial listing still names processes
	var out []procEntry
	for _, n := range names {
		if pid, err := strconv.ParseUint(n, 10, 64); err == nil {
			out = append(out, procEntry{pid: pid, dir: n})
		}
	}
	slices.SortFunc(out, func(a, b procEntry) int {
		return cmp.Or(cmp.Compare(a.pid, b.pid), strings.Compare(a.dir, b.dir))
	})
	return out
}

// procStatus is what detection needs of a /proc/<pid>/status file.
type procStatus struct {
	name     string // the command name, which the kernel truncates to 15 bytes
	uid, gid uint32 // effective ids
}

// parseProcStatus reads the Name, Uid and Gid lines of a status file. Of the ids on Uid and Gid
// (real, effective, saved, filesystem) it keeps the effective one: a worker that dropped root
// has set all four, and the filesystem id follows the effective one unless setfsuid was used.
func parseProcStatus(text string) (procStatus, bool) {
	var st procStatus
	var haveName, haveUID, haveGID bool
	for _, line := range strings.Split(text, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch key {
		case "Name":
			st.name = strings.TrimSpace(value)
			haveName = st.name != ""
		case "Uid":
			st.uid, haveUID = effectiveID(value)
		case "Gid":
			st.gid, haveGID = effectiveID(value)
		}
	}
	return st, haveName && haveUID && haveGID
}

func effectiveID(ids string) (uint32, bool) {
	f := strings.Fields(ids)
	if len(f) < 2 {
		return 0, false
	}
	id, err := access.ParseID(f[1])
	return id, err == nil
}

// readCapped reads a whole regular file of at most safefile.ConfigLimit bytes; anything else is
// no evidence. Real configurations and status files are a few KiB; anything larger is not one,
// and a read cut short could yield a cut-off name. A FIFO or device is never opened.
func readCapped(fsys afero.Fs, name string) ([]byte, bool) {
	data, err := safefile.ReadFs(fsys, name, safefile.ConfigLimit)
	return data, err == nil
}

// setting is a user, and maybe a group, that a configuration file names.
type setting struct {
	user, group string
	line        int    // where the user is named
	what        string // the directive or variable that names it, for the evidence
}

func (s setting) candidate(sysPath string) *access.Candidate {
	return &access.Candidate{
		User:     s.user,
		Group:    s.group,
		Source:   "config",
		Evidence: fmt.Sprintf("%s:%d: %s", sysPath, s.line, s.what),
	}
}

// configCandidate parses one file of the audited system; sysPath is its path on that system.
func configCandidate(fsys afero.Fs, sysroot, sysPath string, parse func(string) (setting, bool)) *access.Candidate {
	data, ok := readCapped(fsys, filepath.Join(sysroot, sysPath))
	if !ok {
		return nil
	}
	s, ok := parse(string(data))
	if !ok {
		return nil
	}
	return s.candidate(sysPath)
}

const (
	nginxConf     = "/etc/nginx/nginx.conf"
	apacheEnvvars = "/etc/apache2/envvars" // Debian, Ubuntu
)

// apacheConfigs are read, in this order, when envvars names no user.
var apacheConfigs = []string{
	"/etc/httpd/conf/httpd.conf", // RHEL, Fedora, Arch
	"/etc/apache2/httpd.conf",    // Alpine
	"/etc/apache2/uid.conf",      // openSUSE
}

// detectWebConfig takes nginx first, then Apache's envvars, then Apache's configuration files. It
// does not try to tell which server is installed or enabled: a host with both configured most
// often runs nginx in front, and the same order is used for processes.
func detectWebConfig(fsys afero.Fs, sysroot string) *access.Candidate {
	if c := configCandidate(fsys, sysroot, nginxConf, parseNginxUser); c != nil {
		return c
	}
	var vars map[string]shellVar
	if data, ok := readCapped(fsys, filepath.Join(sysroot, apacheEnvvars)); ok {
		vars = parseShellVars(string(data))
		if s, ok := envvarsSetting(vars); ok {
			return s.candidate(apacheEnvvars)
		}
	}
	parse := func(text string) (setting, bool) { return parseApacheUser(text, vars) }
	for _, p := range apacheConfigs {
		if c := configCandidate(fsys, sysroot, p, parse); c != nil {
			return c
		}
	}
	return nil
}

// fpmPoolFiles are where PHP-FPM pools are configured; the first pool with a user, in this order
// and then in file name order, is taken.
var fpmPoolFiles = []string{
	"/etc/php/*/fpm/pool.d/*.conf",    // Debian, Ubuntu
	"/etc/php-fpm.d/*.conf",           // RHEL, Fedora
	"/etc/php-fpm.conf",               // a single-file setup
	"/etc/php*/php-fpm.d/*.conf",      // Arch (/etc/php), Alpine (/etc/php82)
	"/usr/local/etc/php-fpm.d/*.conf", // the official php Docker image
}

func detectPHPConfig(fsys afero.Fs, sysroot string) *access.Candidate {
	for _, pattern := range fpmPoolFiles {
		for _, p := range globUnder(fsys, sysroot, pattern) {
			if c := configCandidate(fsys, sysroot, p, parseFPMPool); c != nil {
				return c
			}
		}
	}
	return nil
}

// globUnder expands pattern, an absolute path of the audited system with wildcards in some of its
// elements, to the system paths below sysroot that match, sorted. sysroot is never read as a
// pattern, so a mount point with * or [ in its name works. Paths without wildcards are returned
// whether they exist or not.
func globUnder(fsys afero.Fs, sysroot, pattern string) []string {
	paths := []string{"/"}
	for _, elem := range strings.Split(strings.Trim(pattern, "/"), "/") {
		var next []string
		for _, dir := range paths {
			next = append(next, expandElem(fsys, sysroot, dir, elem)...)
		}
		paths = next
	}
	return paths
}

func expandElem(fsys afero.Fs, sysroot, dir, elem string) []string {
	if !strings.ContainsAny(elem, `*?[\`) {
		return []string{path.Join(dir, elem)}
	}
	hostDir := filepath.Join(sysroot, dir)
	// Only directories are opened, because opening a FIFO would block: O_DIRECTORY refuses
	// anything else before it is opened, where the backend honours it.
	if fi, err := fsys.Stat(hostDir); err != nil || !fi.IsDir() {
		return nil
	}
	d, err := fsys.OpenFile(hostDir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	slices.Sort(names)
	var out []string
	for _, n := range names {
		if ok, _ := path.Match(elem, n); ok {
			out = append(out, path.Join(dir, n))
		}
	}
	return out
}

// plausibleName says whether s can be a user or group name, or a numeric id, as evidence gives
// it. Blanks, control characters, a colon (the passwd separator) or an unexpanded $variable
// cannot be in a real one, and reporting such a value as an identity would mislead.
func plausibleName(s string) bool {
	if s == "" || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == ':' || r == '$' })
}

// nginxToken is a word of an nginx configuration, or one of the unquoted ; { } that end
// directives and open and close blocks.
type nginxToken struct {
	text    string
	line    int
	special bool
}

// nginxTokens splits an nginx configuration as nginx reads it: # starts a comment only where a
// word could start, quotes make one word of what they hold, a backslash escapes the next byte
// inside quotes, and ; { } stand alone.
func nginxTokens(text string) []nginxToken {
	var toks []nginxToken
	line := 1
	for i := 0; i < len(text); {
		switch c := text[i]; c {
		case '\n':
			line++
			i++
		case ' ', '\t', '\r':
			i++
		case '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case ';', '{', '}':
			toks = append(toks, nginxToken{text: text[i : i+1], line: line, special: true})
			i++
		case '"', '\'':
			word, end := nginxQuoted(text, i)
			toks = append(toks, nginxToken{text: word, line: line})
			line += strings.Count(text[i:end], "\n")
			i = end
		default:
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n;{}", rune(text[j])) {
				j++
			}
			toks = append(toks, nginxToken{text: text[i:j], line: line})
			i = j
		}
	}
	return toks
}

// nginxQuoted reads the quoted word starting at text[start] and returns it with the index just
// past its closing quote. An unclosed quote runs to the end of the text.
func nginxQuoted(text string, start int) (string, int) {
	quote := text[start]
	var b strings.Builder
	i := start + 1
	for ; i < len(text) && text[i] != quote; i++ {
		if text[i] == '\\' && i+1 < len(text) {
			i++
		}
		b.WriteByte(text[i])
	}
	return b.String(), min(i+1, len(text))
}

// parseNginxUser finds the user directive of an nginx main configuration: "user NAME [GROUP];"
// in the main context, outside any block. Without GROUP nginx takes the group named like the
// user (not the user's primary group), so Group is set to that name. nginx refuses a second user
// directive, so the first well-formed one is taken. Directives pulled in by include are not
// followed.
func parseNginxUser(text string) (setting, bool) {
	depth := 0
	var args []nginxToken
	for _, t := range nginxTokens(text) {
		if !t.special {
			args = append(args, t)
			continue
		}
		switch t.text {
		case ";":
			if s, ok := nginxUserDirective(args); ok && depth == 0 {
				return s, true
			}
		case "{":
			depth++
		case "}":
			depth = max(depth-1, 0) // a stray } is nginx's error to report, not ours
		}
		args = args[:0]
	}
	return setting{}, false
}

func nginxUserDirective(args []nginxToken) (setting, bool) {
	if len(args) < 2 || len(args) > 3 || args[0].text != "user" {
		return setting{}, false
	}
	s := setting{user: args[1].text, group: args[len(args)-1].text, line: args[0].line, what: "user"}
	return s, plausibleName(s.user) && plausibleName(s.group)
}

// shellVar is a variable a shell fragment such as Apache's envvars assigns.
type shellVar struct {
	value string
	line  int
}

// parseShellVars collects the simple assignments of a shell fragment: NAME=VALUE, maybe after
// export, with VALUE bare or in single or double quotes. It runs nothing and expands nothing; a
// later assignment replaces an earlier one, as it would when the shell sources the file.
func parseShellVars(text string) map[string]shellVar {
	vars := map[string]shellVar{}
	for i, line := range strings.Split(text, "\n") {
		if name, value, ok := shellAssignment(strings.TrimSpace(line)); ok {
			vars[name] = shellVar{value: value, line: i + 1}
		}
	}
	return vars
}

func shellAssignment(line string) (name, value string, ok bool) {
	if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		line = strings.TrimLeft(rest, " \t")
	}
	name, raw, ok := strings.Cut(line, "=")
	if !ok || !isShellName(name) {
		return "", "", false
	}
	value, ok = shellWord(raw)
	return name, value, ok
}

func isShellName(s string) bool {
	for i, c := range []byte(s) {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// shellWord takes the value at the start of raw: a quoted string, or a bare word ended by a blank
// or a semicolon (after which a comment or another command may follow).
func shellWord(raw string) (string, bool) {
	if raw != "" && (raw[0] == '"' || raw[0] == '\'') {
		end := strings.IndexByte(raw[1:], raw[0])
		if end < 0 {
			return "", false
		}
		return raw[1 : 1+end], true
	}
	if end := strings.IndexAny(raw, " \t;"); end >= 0 {
		raw = raw[:end]
	}
	return raw, true
}

// envvarsSetting reads the user and group Debian's Apache takes from its envvars file.
func envvarsSetting(vars map[string]shellVar) (setting, bool) {
	u, ok := vars["APACHE_RUN_USER"]
	if !ok || !plausibleName(u.value) {
		return setting{}, false
	}
	s := setting{user: u.value, line: u.line, what: "APACHE_RUN_USER"}
	if g := vars["APACHE_RUN_GROUP"].value; plausibleName(g) {
		s.group = g
	}
	return s, true
}

// parseApacheUser finds the User and Group directives of an Apache configuration file. Directive
// names are case-insensitive and a later directive overrides an earlier one, as in Apache;
// <IfModule> and similar sections are not evaluated. A value ${NAME} is taken from vars (what
// envvars assigned) and the directive is skipped when vars lacks it.
func parseApacheUser(text string, vars map[string]shellVar) (setting, bool) {
	s := setting{what: "User"}
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		v, ok := apacheValue(f[1], vars)
		switch {
		case !ok:
		case strings.EqualFold(f[0], "User"):
			s.user, s.line = v, i+1
		case strings.EqualFold(f[0], "Group"):
			s.group = v
		}
	}
	return s, s.user != ""
}

// apacheValue resolves a User or Group argument: quotes are dropped, ${NAME} is looked up in
// vars, and Apache's #uid form becomes the bare number.
func apacheValue(v string, vars map[string]shellVar) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if name, ok := strings.CutPrefix(v, "${"); ok && strings.HasSuffix(name, "}") {
		sv, ok := vars[strings.TrimSuffix(name, "}")]
		if !ok {
			return "", false
		}
		v = sv.value
	}
	if id, ok := strings.CutPrefix(v, "#"); ok {
		if _, err := access.ParseID(id); err != nil {
			return "", false
		}
		v = id
	}
	return v, plausibleName(v)
}

// parseFPMPool finds the first pool of a PHP-FPM configuration file that sets a user. Within a
// pool a later user or group line overrides an earlier one, and $pool in a value stands for the
// pool's name, as PHP-FPM reads them. [global] is not a pool.
func parseFPMPool(text string) (setting, bool) {
	var pool string
	var s setting
	for i, raw := range strings.Split(text, "\n") {
		line := iniLine(raw)
		if name, ok := iniSection(line); ok {
			if s.user != "" {
				break
			}
			pool, s = name, setting{}
			continue
		}
		if pool == "" || pool == "global" {
			continue
		}
		key, value, ok := iniEntry(line, pool)
		switch {
		case !ok:
		case key == "user":
			s.user, s.line = value, i+1
		case key == "group":
			s.group = value
		}
	}
	s.what = "user in pool [" + pool + "]"
	return s, s.user != ""
}

// iniLine drops a ; comment and surrounding blanks; a line starting with # is a comment too.
func iniLine(raw string) string {
	if i := strings.IndexByte(raw, ';'); i >= 0 {
		raw = raw[:i]
	}
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "#") {
		return ""
	}
	return raw
}

func iniSection(line string) (string, bool) {
	if len(line) < 2 || line[0] != '[' || line[len(line)-1] != ']' {
		return "", false
	}
	name := strings.TrimSpace(line[1 : len(line)-1])
	return name, name != ""
}

// iniEntry splits key = value, with the key lower-cased, the value unquoted and $pool expanded;
// only a value that can name an account is returned.
func iniEntry(line, pool string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(line, "=")
	if !ok {
		return "", "", false
	}
	key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	value = strings.ReplaceAll(value, "$pool", pool)
	return key, value, plausibleName(value)
}
