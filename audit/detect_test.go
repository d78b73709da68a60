package audit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/internal/safefile"
	"golang.org/x/sys/unix"
)

// procStatusFile is a /proc/<pid>/status as Linux writes it, cut to the lines around what
// detection reads. uids and gids are the real, effective, saved and filesystem ids.
func procStatusFile(name string, pid int, uids, gids string) string {
	return fmt.Sprintf("Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t1\n"+
		"TracerPid:\t0\nUid:\t%s\nGid:\t%s\nFDSize:\t64\nGroups:\t%s \nVmPeak:\t   12345 kB\nThreads:\t1\n",
		name, pid, pid, uids, gids, strings.Fields(gids)[1])
}

// procMaster is the status file of a server's master, run as root; procWorker that of a worker
// run with all four uids and gids set to id.
func procMaster(name string, pid int) string {
	return procStatusFile(name, pid, "0\t0\t0\t0", "0\t0\t0\t0")
}
func procWorker(name string, pid int, id string) string {
	ids := strings.Repeat(id+"\t", 3) + id
	return procStatusFile(name, pid, ids, ids)
}

// detectFS builds a MemMapFs from paths and contents; a path ending in / is an empty directory.
func detectFS(t *testing.T, files map[string]string) afero.Fs {
	t.Helper()
	fsys := afero.NewMemMapFs()
	for name, content := range files {
		var err error
		if strings.HasSuffix(name, "/") {
			err = fsys.MkdirAll(name, 0o755)
		} else {
			err = afero.WriteFile(fsys, name, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

// procNoise is what /proc holds besides servers: non-numeric entries, a process that vanished
// between listing and reading, and unrelated processes.
var procNoise = map[string]string{
	"/proc/self/":          "",
	"/proc/sys/kernel/":    "",
	"/proc/cpuinfo":        "processor\t: 0\n",
	"/proc/4242/":          "", // vanished: its directory is listed but its status is gone
	"/proc/1/status":       procMaster("systemd", 1),
	"/proc/650/status":     procWorker("sshd", 650, "1000"),
	"/proc/651/status":     "Name:\tbroken\nUid:\t33\n", // no effective id, no Gid
	"/proc/652/status":     procWorker("nginx-exporter", 652, "998"),
	"/proc/653/status/":    "", // not a file
	"/proc/thread-self/":   "",
	"/proc/pressure/cpu":   "",
	"/proc/99999/status":   procWorker("bash", 99999, "0"),
	"/proc/99998/cmdline":  "nginx: worker process\x00",
	"/proc/99997/status":   "",
	"/proc/99996/status":   "\x00\xff garbage",
	"/proc/1000000/status": procWorker("php", 1000000, "33"),
}

func mergeFiles(base map[string]string, more map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(more))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

func sameCandidate(a, b *access.Candidate) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func showCandidate(c *access.Candidate) string {
	if c == nil {
		return "nil"
	}
	return fmt.Sprintf("%+v", *c)
}

const debianEnvvars = `# envvars - default environment variables for apache2ctl

# this won't be correct after changing uid
unset HOME

# for supporting multiple apache2 instances
if [ "${APACHE_CONFDIR##/etc/apache2-}" != "${APACHE_CONFDIR}" ] ; then
	SUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"
else
	SUFFIX=
fi

# Since there is no sane way to get the parsed apache2 config in scripts, some
# settings are defined via environment variables and then used in apache2ctl,
# /etc/init.d/apache2, /etc/logrotate.d/apache2, etc.
export APACHE_RUN_USER="www-data"
export APACHE_RUN_GROUP='www-data'
# temporary state file location. This might be changed to /run in Wheezy+1
export APACHE_PID_FILE=/var/run/apache2$SUFFIX/apache2.pid
export APACHE_RUN_DIR=/var/run/apache2$SUFFIX
`

const rhelHttpdConf = `ServerRoot "/etc/httpd"
Listen 80
Include conf.modules.d/*.conf

#
# If you wish httpd to run as a different user or group, you must run
# httpd as root initially and it will switch.
#
# User/Group: The name (or #number) of the user/group to run httpd as.
#
<IfModule unixd_module>
User apache
Group apache
</IfModule>
`

const nginxConfSample = `# nginx.conf
#user  nobody;
user www-data webgrp; # the second word is the group
worker_processes auto;
pid /run/nginx.pid;

events {
	worker_connections 768;
}

http {
	user ignored;
	server { listen 80; }
}
`

const debianPool = `; Start a new pool named 'www'.
[www]

; Unix user/group of the child processes.
;user = nobody
user = www-data
group = www-data

listen = /run/php/php8.2-fpm.sock
`

func TestDetect(t *testing.T) {
	nginxWorker := &access.Candidate{User: "33", Group: "33", Source: "process", Evidence: "nginx worker, pid 812"}
	tests := []struct {
		name    string
		files   map[string]string
		sysroot string
		procDir string
		want    access.Detected
	}{
		{
			name:    "nothing found",
			files:   mergeFiles(procNoise, nil),
			sysroot: "/", procDir: "/proc",
		},
		{
			name:    "litespeed worker in a zero-padded directory",
			files:   mergeFiles(procNoise, map[string]string{"/proc/00654/status": procWorker("lshttpd", 654, "996")}),
			sysroot: "/", procDir: "/proc",
			want: access.Detected{Web: &access.Candidate{User: "996", Group: "996", Source: "process", Evidence: "lshttpd worker, pid 654"}},
		},
		{
			name:    "nothing at all",
			files:   map[string]string{"/etc/hostname": "web1\n"},
			sysroot: "/", procDir: "/proc",
		},
		{
			name: "nginx worker",
			files: mergeFiles(procNoise, map[string]string{
				"/proc/811/status": procMaster("nginx", 811),
				"/proc/812/status": procWorker("nginx", 812, "33"),
				"/proc/813/status": procWorker("nginx", 813, "34"),
			}),
			sysroot: "/", procDir: "/proc",
			want: access.Detected{Web: nginxWorker},
		},
		{
			name: "lowest pid in numeric order",
			files: map[string]string{
				"/proc/1000/status": procWorker("nginx", 1000, "101"),
				"/proc/999/status":  procWorker("nginx", 999, "102"),
			},
			sysroot: "/", procDir: "/proc",
			want: access.Detected{Web: &access.Candidate{User: "102", Group: "102", Source: "process", Evidence: "nginx worker, pid 999"}},
		},
		{
			name: "apache2 worker",
			files: mergeFiles(procNoise, map[string]string{
				"/proc/700/status": procMaster("apache2", 700),
				"/proc/701/status": procWorker("apache2", 701, "33"),
			}),
			sysroot: "/", procDir: "/proc",
			want: access.Detected{Web: &access.Candidate{User: "33", Group: "33", Source: "process", Evidence: "apache2 worker, pid 701"}},
		},
		{
			name: "httpd worker",
			files: map[string]string{
				"/proc/900/status": procMaster("httpd", 900),
				"/proc/901/status": procWorker("httpd", 901, "48"),
			},
			sysroot: "/", procDir: "/proc",
			want: access.Detected{Web: &access.Candidate{User: "48", Group: "48", Source: "process", Evidence: "httpd worker, pid 901"}},
		},
		{
			name: "nginx preferred over apache2",
			files: map[string]string{
				"/proc/500/status": procWorker("apache2", 500, "33"),
				"/proc/900/status": procWorker("nginx", 900, "101"),
			},
			sysroot: "/", procDir: "/proc",
			want: access.Detected{Web: &access.Candidate{User: "101", Group: "101", Source: "process", Evidence: "nginx worker, pid 900"}},
		},
		{
			name: "effective ids count",
			files: map[string]string{
				"/proc/20/status": procStatusFile("nginx", 20, "33\t0\t0\t0", "33\t0\t0\t0"),     // still root
				"/proc/21/status": procStatusFile("nginx", 21, "0\t33\t33\t33", "0\t44\t44\t44"), // dropped root
			},
			sysroot: "/", procDir: "/proc",
			want: access.Detected{Web: &access.Candidate{User: "33", Group: "44", Source: "process", Evidence: "nginx worker, pid 21"}},
		},
		{
			name: "php-fpm pool worker gives PHP",
			files: mergeFiles(procNoise, map[string]string{
				"/proc/811/status": procMaster("nginx", 811),
				"/proc/812/status": procWorker("nginx", 812, "33"),
				"/proc/600/status": procMaster("php-fpm8.2", 600),
				"/proc/601/status": procWorker("php-fpm8.2", 601, "1001"),
				"/proc/602/status": procWorker("php-fpm8.2", 602, "33"),
			}),
			sysroot: "/", procDir: "/proc",
			want: access.Detected{
				Web: nginxWorker,
				PHP: &access.Candidate{User: "1001", Group: "1001", Source: "process", Evidence: "php-fpm8.2 worker, pid 601"},
			},
		},
		{
			name: "php-fpm process, web from config",
			files: map[string]string{
				"/proc/600/status":      procMaster("php-fpm", 600),
				"/proc/601/status":      procWorker("php-fpm", 601, "48"),
				"/etc/nginx/nginx.conf": "user nginx;\n",
			},
			sysroot: "/", procDir: "/proc",
			want: access.Detected{
				Web: &access.Candidate{User: "nginx", Group: "nginx", Source: "config", Evidence: "/etc/nginx/nginx.conf:1: user"},
				PHP: &access.Candidate{User: "48", Group: "48", Source: "process", Evidence: "php-fpm worker, pid 601"},
			},
		},
		{
			name: "process wins over config",
			files: map[string]string{
				"/proc/811/status":                 procMaster("nginx", 811),
				"/proc/812/status":                 procWorker("nginx", 812, "33"),
				"/proc/813/status":                 procWorker("php-fpm8.2", 813, "1001"),
				"/etc/nginx/nginx.conf":            "user nginx;\n",
				"/etc/php/8.2/fpm/pool.d/www.conf": debianPool,
			},
			sysroot: "/", procDir: "/proc",
			want: access.Detected{
				Web: nginxWorker,
				PHP: &access.Candidate{User: "1001", Group: "1001", Source: "process", Evidence: "php-fpm8.2 worker, pid 813"},
			},
		},
		{
			name: "masters only fall through to config",
			files: map[string]string{
				"/proc/811/status":                 procMaster("nginx", 811),
				"/proc/600/status":                 procMaster("php-fpm8.2", 600),
				"/etc/nginx/nginx.conf":            nginxConfSample,
				"/etc/php/8.2/fpm/pool.d/www.conf": debianPool,
			},
			sysroot: "/", procDir: "/proc",
			want: access.Detected{
				Web: &access.Candidate{User: "www-data", Group: "webgrp", Source: "config", Evidence: "/etc/nginx/nginx.conf:3: user"},
				PHP: &access.Candidate{User: "www-data", Group: "www-data", Source: "config", Evidence: "/etc/php/8.2/fpm/pool.d/www.conf:6: user in pool [www]"},
			},
		},
		{
			name: "no procDir skips processes",
			files: map[string]string{
				"/proc/812/status":      procWorker("nginx", 812, "33"),
				"/etc/nginx/nginx.conf": "user nginx;\n",
			},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "nginx", Group: "nginx", Source: "config", Evidence: "/etc/nginx/nginx.conf:1: user"}},
		},
		{
			name:    "envvars with export and quotes",
			files:   map[string]string{"/etc/apache2/envvars": debianEnvvars, "/etc/apache2/apache2.conf": "User ${APACHE_RUN_USER}\n"},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "www-data", Group: "www-data", Source: "config", Evidence: "/etc/apache2/envvars:16: APACHE_RUN_USER"}},
		},
		{
			name:    "envvars without export",
			files:   map[string]string{"/etc/apache2/envvars": "APACHE_RUN_USER=web # site user\nAPACHE_RUN_GROUP=${SUFFIX}grp\n"},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "web", Source: "config", Evidence: "/etc/apache2/envvars:1: APACHE_RUN_USER"}},
		},
		{
			name:    "httpd.conf User",
			files:   map[string]string{"/etc/httpd/conf/httpd.conf": rhelHttpdConf},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "apache", Group: "apache", Source: "config", Evidence: "/etc/httpd/conf/httpd.conf:12: User"}},
		},
		{
			name:    "openSUSE uid.conf",
			files:   map[string]string{"/etc/apache2/uid.conf": "user wwwrun\ngroup www\n"},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "wwwrun", Group: "www", Source: "config", Evidence: "/etc/apache2/uid.conf:1: User"}},
		},
		{
			name: "httpd.conf variable from envvars",
			files: map[string]string{
				"/etc/apache2/envvars":    "export SITE_USER=site\n",
				"/etc/apache2/httpd.conf": "User ${SITE_USER}\nGroup ${SITE_GROUP}\n",
			},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "site", Source: "config", Evidence: "/etc/apache2/httpd.conf:1: User"}},
		},
		{
			name:    "unresolved variable is no evidence",
			files:   map[string]string{"/etc/httpd/conf/httpd.conf": "User ${APACHE_RUN_USER}\n"},
			sysroot: "/",
		},
		{
			name:    "nginx.conf with comment and group",
			files:   map[string]string{"/etc/nginx/nginx.conf": nginxConfSample},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "www-data", Group: "webgrp", Source: "config", Evidence: "/etc/nginx/nginx.conf:3: user"}},
		},
		{
			name: "nginx.conf before apache",
			files: map[string]string{
				"/etc/nginx/nginx.conf":      "worker_processes 1; user nginx;",
				"/etc/apache2/envvars":       debianEnvvars,
				"/etc/httpd/conf/httpd.conf": rhelHttpdConf,
			},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "nginx", Group: "nginx", Source: "config", Evidence: "/etc/nginx/nginx.conf:1: user"}},
		},
		{
			name: "nginx.conf without user falls through to apache",
			files: map[string]string{
				"/etc/nginx/nginx.conf":      "#user nobody;\nevents {}\n",
				"/etc/httpd/conf/httpd.conf": rhelHttpdConf,
			},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "apache", Group: "apache", Source: "config", Evidence: "/etc/httpd/conf/httpd.conf:12: User"}},
		},
		{
			name: "php pool file",
			files: map[string]string{
				"/etc/php/8.2/fpm/pool.d/a-status.conf": "[status]\nlisten = 127.0.0.1:9001\n",
				"/etc/php/8.2/fpm/pool.d/www.conf":      debianPool,
				"/etc/php/8.2/fpm/pool.d/zz.conf":       "[zz]\nuser = late\n",
				"/etc/php/8.2/fpm/pool.d/www.conf.bak":  "[bak]\nuser = backup\n",
			},
			sysroot: "/",
			want:    access.Detected{PHP: &access.Candidate{User: "www-data", Group: "www-data", Source: "config", Evidence: "/etc/php/8.2/fpm/pool.d/www.conf:6: user in pool [www]"}},
		},
		{
			name: "RHEL pool with $pool",
			files: map[string]string{
				"/etc/php-fpm.conf":        "[global]\nuser = notapool\ninclude=/etc/php-fpm.d/*.conf\n",
				"/etc/php-fpm.d/shop.conf": "[shop]\nuser = $pool\ngroup = apache ; web server's group\n",
			},
			sysroot: "/",
			want:    access.Detected{PHP: &access.Candidate{User: "shop", Group: "apache", Source: "config", Evidence: "/etc/php-fpm.d/shop.conf:2: user in pool [shop]"}},
		},
		{
			name: "sysroot other than /",
			files: map[string]string{
				"/etc/nginx/nginx.conf":                              "user host;\n",
				"/etc/php/8.2/fpm/pool.d/www.conf":                   "[www]\nuser = host\n",
				"/mnt/image/etc/nginx/nginx.conf":                    "\nuser image imagegrp;\n",
				"/mnt/image/etc/php/7.4/fpm/pool.d/www.conf":         "[www]\nuser = image74\n",
				"/mnt/image/etc/php/8.2/fpm/pool.d/www.conf":         "[www]\nuser = image82\n",
				"/mnt/image/proc/1/status":                           procWorker("nginx", 1, "33"),
				"/mnt/image/etc/php/8.2/fpm/pool.d/not-a-file.conf/": "",
			},
			sysroot: "/mnt/image",
			want: access.Detected{
				Web: &access.Candidate{User: "image", Group: "imagegrp", Source: "config", Evidence: "/etc/nginx/nginx.conf:2: user"},
				PHP: &access.Candidate{User: "image74", Source: "config", Evidence: "/etc/php/7.4/fpm/pool.d/www.conf:2: user in pool [www]"},
			},
		},
		{
			name: "sysroot with glob characters",
			files: map[string]string{
				"/mnt/img[1]/etc/php/8.2/fpm/pool.d/www.conf": "[www]\nuser = bracket\n",
				"/mnt/img1/etc/php/8.2/fpm/pool.d/www.conf":   "[www]\nuser = wrong\n",
			},
			sysroot: "/mnt/img[1]",
			want:    access.Detected{PHP: &access.Candidate{User: "bracket", Source: "config", Evidence: "/etc/php/8.2/fpm/pool.d/www.conf:2: user in pool [www]"}},
		},
		{
			name: "oversized and non-regular configs are no evidence",
			files: map[string]string{
				"/etc/nginx/nginx.conf":       "user big;\n" + strings.Repeat("#", safefile.ConfigLimit),
				"/etc/apache2/envvars/":       "",
				"/etc/httpd/conf/httpd.conf/": "",
				"/etc/apache2/uid.conf":       "User wwwrun\n",
			},
			sysroot: "/",
			want:    access.Detected{Web: &access.Candidate{User: "wwwrun", Source: "config", Evidence: "/etc/apache2/uid.conf:1: User"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Detect(detectFS(t, tt.files), tt.sysroot, tt.procDir)
			if !sameCandidate(got.Web, tt.want.Web) {
				t.Errorf("Web = %s\nwant %s", showCandidate(got.Web), showCandidate(tt.want.Web))
			}
			if !sameCandidate(got.PHP, tt.want.PHP) {
				t.Errorf("PHP = %s\nwant %s", showCandidate(got.PHP), showCandidate(tt.want.PHP))
			}
		})
	}
}

func TestDetectMissingProcDir(t *testing.T) {
	fsys := detectFS(t, map[string]string{"/etc/nginx/nginx.conf": "user nginx;\n"})
	got := Detect(fsys, "/", "/no/such/proc")
	want := &access.Candidate{User: "nginx", Group: "nginx", Source: "config", Evidence: "/etc/nginx/nginx.conf:1: user"}
	if !sameCandidate(got.Web, want) || got.PHP != nil {
		t.Errorf("Detect = %s, %s", showCandidate(got.Web), showCandidate(got.PHP))
	}
}

func TestDetectPHPFPMNames(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"php-fpm", true},
		{"php-fpm8.2", true},
		{"php-fpm82", true},
		{"php8.2-fpm", true},
		{"php", false},
		{"php-cgi", false},
		{"php8.2", false},
		{"lsphp", false},
		{"nginx", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isPHPFPM(tt.name); got != tt.want {
				t.Errorf("isPHPFPM(%q) = %v", tt.name, got)
			}
		})
	}
}

func TestDetectParseNginxUser(t *testing.T) {
	tests := []struct {
		name, conf  string
		user, group string
		line        int
		found       bool
	}{
		{"user only", "user nginx;", "nginx", "nginx", 1, true},
		{"user and group", "\n\nuser  www-data  www-data ;", "www-data", "www-data", 3, true},
		{"commented out", "#user nobody;\n", "", "", 0, false},
		{"hash inside a word", "user a#b;", "a#b", "a#b", 1, true},
		{"trailing comment", "user web; # not group\n", "web", "web", 1, true},
		{"quoted", "user \"web\" 'grp';", "web", "grp", 1, true},
		{"split over lines", "user\n  web\n  grp\n;", "web", "grp", 1, true},
		{"in a block", "http {\n user web;\n}\n", "", "", 0, false},
		{"after a block", "events {\n}\nuser web;\n", "web", "web", 3, true},
		{"stray brace", "}\nuser web;\n", "web", "web", 2, true},
		{"no semicolon", "user web\n", "", "", 0, false},
		{"too many words", "user a b c;\nuser d;", "d", "d", 2, true},
		{"variable", "user $x;", "", "", 0, false},
		{"escaped quote", `user 'a\'b';`, "a'b", "a'b", 1, true},
		{"quoted semicolon", "user \"a;b\";", "a;b", "a;b", 1, true},
		{"line after quoted newline", "log_format x 'a\nb';\nuser web;", "web", "web", 3, true},
		{"unclosed quote", "user 'web;", "", "", 0, false},
		{"another directive", "users web;", "", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := parseNginxUser(tt.conf)
			if ok != tt.found || s.user != tt.user || s.group != tt.group || s.line != tt.line {
				t.Errorf("parseNginxUser = %+v, %v; want %q %q line %d, %v", s, ok, tt.user, tt.group, tt.line, tt.found)
			}
		})
	}
}

func TestDetectParseShellVars(t *testing.T) {
	tests := []struct {
		name, line string
		user       string
		found      bool
	}{
		{"export", "export APACHE_RUN_USER=www-data", "www-data", true},
		{"export with tabs", "\texport\tAPACHE_RUN_USER=www-data", "www-data", true},
		{"bare", "APACHE_RUN_USER=www-data", "www-data", true},
		{"double quotes", `export APACHE_RUN_USER="www-data"`, "www-data", true},
		{"single quotes", `export APACHE_RUN_USER='www-data' # c`, "www-data", true},
		{"semicolon", "APACHE_RUN_USER=web; export APACHE_RUN_USER", "web", true},
		{"comment", "# export APACHE_RUN_USER=www-data", "", false},
		{"unclosed quote", `export APACHE_RUN_USER="www-data`, "", false},
		{"expansion", "export APACHE_RUN_USER=${WEB_USER}", "", false},
		{"empty", "export APACHE_RUN_USER=", "", false},
		{"exported name", "exportAPACHE_RUN_USER=x", "", false},
		{"spaces around =", "APACHE_RUN_USER = x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := envvarsSetting(parseShellVars(tt.line))
			if ok != tt.found || s.user != tt.user {
				t.Errorf("user %q, %v; want %q, %v", s.user, ok, tt.user, tt.found)
			}
		})
	}
}

func TestDetectParseApacheUser(t *testing.T) {
	vars := map[string]shellVar{"RUN_USER": {value: "fromvars", line: 1}}
	tests := []struct {
		name, conf  string
		user, group string
		line        int
	}{
		{"directives", "User apache\nGroup apache\n", "apache", "apache", 1},
		{"case", "\nuSeR apache\n", "apache", "", 2},
		{"later wins", "User a\nUser b\n", "b", "", 2},
		{"comment", "#User a\n# User b\n", "", "", 0},
		{"uid form", "User #48\nGroup #48\n", "48", "48", 1},
		{"negative uid form", "User #-1\n", "", "", 0},
		{"quoted", `User "apache"`, "apache", "", 1},
		{"variable", "User ${RUN_USER}\nGroup ${RUN_GROUP}\n", "fromvars", "", 1},
		{"malformed", "User\nUser a b\nUserapache\n", "", "", 0},
		{"crlf", "User apache\r\n", "apache", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := parseApacheUser(tt.conf, vars)
			if ok != (tt.user != "") || s.user != tt.user || s.group != tt.group || s.line != tt.line {
				t.Errorf("parseApacheUser = %+v, %v; want %q %q line %d", s, ok, tt.user, tt.group, tt.line)
			}
		})
	}
}

func TestDetectParseFPMPool(t *testing.T) {
	tests := []struct {
		name, conf        string
		user, group, what string
		line              int
	}{
		{"debian", debianPool, "www-data", "www-data", "user in pool [www]", 6},
		{"first pool with a user", "[a]\nlisten=1\n[b]\nuser=bee\n[c]\nuser=sea\n", "bee", "", "user in pool [b]", 4},
		{"later line wins in a pool", "[a]\nuser=one\nuser=two\n", "two", "", "user in pool [a]", 3},
		{"global is not a pool", "[global]\nuser=g\n", "", "", "", 0},
		{"outside a section", "user=x\n", "", "", "", 0},
		{"pool variable", "[site]\nuser = $pool\ngroup = $pool-grp\n", "site", "site-grp", "user in pool [site]", 2},
		{"quoted and commented", "[w]\nuser = \"web\" ; who\n", "web", "", "user in pool [w]", 2},
		{"hash comment", "[w]\n# user = no\n", "", "", "", 0},
		{"env variable", "[w]\nuser = ${USER}\n", "", "", "", 0},
		{"case of key", "[w]\nUSER = web\n", "web", "", "user in pool [w]", 2},
		{"empty section name", "[]\nuser = web\n", "", "", "", 0},
		{"blank value", "[w]\nuser =\n", "", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := parseFPMPool(tt.conf)
			if !ok {
				s = setting{}
			}
			if ok != (tt.user != "") || s.user != tt.user || s.group != tt.group || s.what != tt.what || s.line != tt.line {
				t.Errorf("parseFPMPool = %+v, %v; want %q %q %q line %d", s, ok, tt.user, tt.group, tt.what, tt.line)
			}
		})
	}
}

func TestDetectParseProcStatus(t *testing.T) {
	tests := []struct {
		name, status string
		want         procStatus
		ok           bool
	}{
		{"worker", procWorker("nginx", 812, "33"), procStatus{"nginx", 33, 33}, true},
		{"long name", procStatusFile("php-fpm8.2", 9, "0\t1001\t1001\t1001", "0\t1002\t1002\t1002"), procStatus{"php-fpm8.2", 1001, 1002}, true},
		{"no gid", "Name:\tnginx\nUid:\t1\t2\t3\t4\n", procStatus{}, false},
		{"one uid", "Name:\tnginx\nUid:\t1\nGid:\t1\t1\n", procStatus{}, false},
		{"bad uid", "Name:\tnginx\nUid:\t1\tx\t3\t4\nGid:\t1\t1\t1\t1\n", procStatus{}, false},
		{"no name", "Name:\t\nUid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\n", procStatus{}, false},
		{"empty", "", procStatus{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseProcStatus(tt.status)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("parseProcStatus = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// checkSetting is what every parser promises: a found user can name an account and has a line.
func checkSetting(t *testing.T, text string, s setting, ok bool) {
	t.Helper()
	if !ok {
		return
	}
	if !plausibleName(s.user) || (s.group != "" && !plausibleName(s.group)) {
		t.Fatalf("implausible user %q group %q", s.user, s.group)
	}
	if lines := strings.Count(text, "\n") + 1; s.line < 1 || s.line > lines {
		t.Fatalf("line %d outside 1..%d", s.line, lines)
	}
}

func FuzzParseNginxUser(f *testing.F) {
	f.Add(nginxConfSample)
	f.Add("user 'a\\'b' \"c\\\\\";\n}}{{ user x;")
	f.Fuzz(func(t *testing.T, s string) {
		set, ok := parseNginxUser(s)
		checkSetting(t, s, set, ok)
	})
}

func FuzzParseApacheUser(f *testing.F) {
	f.Add(debianEnvvars, "User ${APACHE_RUN_USER}\nGroup #33\n")
	f.Add("export A='b", rhelHttpdConf)
	f.Fuzz(func(t *testing.T, envvars, conf string) {
		vars := parseShellVars(envvars)
		set, ok := envvarsSetting(vars)
		checkSetting(t, envvars, set, ok)
		set, ok = parseApacheUser(conf, vars)
		checkSetting(t, conf, set, ok)
	})
}

func FuzzParseFPMPool(f *testing.F) {
	f.Add(debianPool)
	f.Add("[global]\n[a]\nuser=$pool\n[]\n[")
	f.Fuzz(func(t *testing.T, s string) {
		set, ok := parseFPMPool(s)
		checkSetting(t, s, set, ok)
	})
}

func FuzzParseProcStatus(f *testing.F) {
	f.Add(procWorker("nginx", 812, "33"))
	f.Add("Uid:\t\nGid:\nName:")
	f.Fuzz(func(t *testing.T, s string) {
		if st, ok := parseProcStatus(s); ok && st.name == "" {
			t.Fatal("a process with no name")
		}
	})
}

// A FIFO or device where a configuration file should be is no evidence, and detection does not
// wait on it: the host's file system is read through safefile, which never opens one.
func TestDetectSkipsFIFOConfig(t *testing.T) {
	sys := t.TempDir()
	if err := os.MkdirAll(filepath.Join(sys, "etc", "nginx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(sys, "etc", "nginx", "nginx.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(sys, "etc", "apache2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(sys, "etc", "apache2", "envvars")); err != nil {
		t.Fatal(err)
	}
	done := make(chan access.Detected, 1)
	go func() { done <- Detect(afero.NewOsFs(), sys, "") }()
	select {
	case d := <-done:
		if d.Web != nil {
			t.Errorf("found a web user in a FIFO or device: %+v", d.Web)
		}
	case <-time.After(time.Second):
		t.Fatal("detection still blocked after a second")
	}
}

// A worker found in the real /proc is read there, although configuration and account files on
// the kernel's file systems are refused: /proc/<pid>/status is the one kernel file webperm reads.
func TestDetectRealProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: starts a worker as another user")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip(err)
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	worker := filepath.Join(fixture.TempDir(t), "nginx")
	if err := os.WriteFile(worker, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(worker, "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sys := t.TempDir()
	if err := os.MkdirAll(filepath.Join(sys, "etc", "nginx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/status", filepath.Join(sys, "etc", "nginx", "nginx.conf")); err != nil {
		t.Fatal(err)
	}
	// Another web server the host (or a test beside this one) runs may come first: what counts is
	// that a process was read.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		d := Detect(afero.NewOsFs(), sys, "/proc")
		if d.Web != nil && d.Web.Source == "process" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("detected %+v, want the worker, pid %d, read from /proc", d.Web, cmd.Process.Pid)
		}
	}
	if d := Detect(afero.NewOsFs(), sys, ""); d.Web != nil {
		t.Errorf("read a configuration from /proc: %+v", d.Web)
	}
}
