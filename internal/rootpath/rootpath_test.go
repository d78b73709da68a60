package rootpath

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/safefile"
)

// The users of the tests' system. carol is in devs by the group file, dave by his passwd line.
const (
	alice = 1001
	bob   = 1002
	carol = 1003
	dave  = 1004
	www   = 33
	devs  = 2000
	wheel = 2001 // only root is a member
)

var accounts = access.NewAccounts(
	[]access.User{{Name: "root"}, {Name: "www-data", UID: www, GID: www}, {Name: "alice", UID: alice, GID: alice}, {Name: "bob", UID: bob, GID: bob}, {Name: "carol", UID: carol, GID: carol}, {Name: "dave", UID: dave, GID: devs}},
	[]access.Group{{Name: "root"}, {Name: "www-data", GID: www}, {Name: "alice", GID: alice}, {Name: "bob", GID: bob}, {Name: "carol", GID: carol}, {Name: "devs", GID: devs, Members: []string{"carol"}}, {Name: "wheel", GID: wheel, Members: []string{"root"}}},
)

// node is one entry of a test tree: a directory, or a symlink where target is set.
type node struct {
	path   string
	mode   fs.FileMode
	uid    int
	gid    int
	target string // "@/" stands for the test's base directory
	file   bool
}

func dir(path string, mode fs.FileMode, uid, gid int) node {
	return node{path: path, mode: mode, uid: uid, gid: gid}
}

func link(path, target string, uid int) node {
	return node{path: path, target: target, uid: uid, gid: uid}
}

// home is alice's home with her site in it, below a root-owned directory, as hosts have it.
var home = []node{dir("home", 0o755, 0, 0), dir("home/alice", 0o711, alice, alice), dir("home/alice/public_html", 0o755, alice, alice)}

// etc stands for /etc: root's, outside every home.
var etc = []node{dir("etc", 0o755, 0, 0), dir("etc/ssl", 0o755, 0, 0)}

func build(t *testing.T, nodes ...[]node) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tree belongs to several users")
	}
	base := t.TempDir()
	for _, n := range slices.Concat(nodes...) {
		p := filepath.Join(base, n.path)
		var err error
		switch {
		case n.target != "":
			err = os.Symlink(strings.Replace(n.target, "@/", base+"/", 1), p)
		case n.file:
			err = os.WriteFile(p, nil, 0o644)
		default:
			err = os.Mkdir(p, 0o700)
		}
		if err == nil {
			err = os.Lchown(p, n.uid, n.gid)
		}
		if err == nil && n.target == "" {
			err = os.Chmod(p, n.mode) // after the chown, which clears set-id bits
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return base
}

// setACL gives path an access ACL with a named user entry: uid gets perm, the mask lets it.
func setACL(t *testing.T, path string, uid uint32, perm walk.Perm) {
	t.Helper()
	entries := []walk.ACLEntry{
		{Tag: walk.ACLUserObj, Perm: walk.PermAll},
		{Tag: walk.ACLUser, ID: uid, Perm: perm},
		{Tag: walk.ACLGroupObj, Perm: walk.PermRead | walk.PermExec},
		{Tag: walk.ACLMask, Perm: walk.PermAll},
		{Tag: walk.ACLOther, Perm: walk.PermRead | walk.PermExec},
	}
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, uint16(e.Tag))
		b = binary.LittleEndian.AppendUint16(b, uint16(e.Perm))
		b = binary.LittleEndian.AppendUint32(b, e.ID)
	}
	if err := unix.Lsetxattr(path, "system.posix_acl_access", b, 0); err != nil {
		if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) {
			t.Skipf("the test's file system has no POSIX ACLs: %v", err)
		}
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name  string
		tree  [][]node
		acl   string // a directory that gets an ACL giving alice write
		given string
		// want is the resolved path, relative to the base; wantErr an error it must match instead.
		want    string
		wantErr error
		// controls lists "step uid" for every step someone controls ("step *" for every user).
		controls []string
		links    int
		// refused is part of Check's refusal; empty: the root is allowed. owners are Check's
		// rootOwners.
		refused string
		owners  []uint32
	}{
		{
			name: "root's own tree", tree: [][]node{{dir("www", 0o755, 0, 0), dir("www/site", 0o755, 0, 0)}},
			given: "www/site", want: "www/site",
		},
		{
			name: "a site in its owner's home", tree: [][]node{home},
			given: "home/alice/public_html", want: "home/alice/public_html",
			controls: []string{"home/alice/public_html 1001"},
		},
		{
			name: "a link its owner made to an outside tree of root's", tree: [][]node{home, etc, {link("home/alice/www", "@/etc", alice)}},
			given: "home/alice/www", want: "etc", links: 1,
			controls: []string{"home/alice/www 1001"},
			refused:  "alice controls " + "@/home/alice/www on the way to the root (owns the symlink), and it leads to @/etc, outside every directory of alice's own",
		},
		{
			name: "a relative link within the home", tree: [][]node{home, {dir("home/alice/releases", 0o755, alice, alice), dir("home/alice/releases/2026-12-01", 0o755, alice, alice), link("home/alice/current", "releases/2026-12-01", alice)}},
			given: "home/alice/current", want: "home/alice/releases/2026-12-01", links: 1,
			controls: []string{"home/alice/current 1001", "home/alice/releases 1001", "home/alice/releases/2026-12-01 1001"},
		},
		{
			name: "a link into another user's site", tree: [][]node{home, {dir("home/bob", 0o711, bob, bob), dir("home/bob/public_html", 0o755, bob, bob), link("home/alice/bobs", "../bob/public_html", alice)}},
			given: "home/alice/bobs", want: "home/bob/public_html", links: 1,
			controls: []string{"home/alice/bobs 1001", "home/bob/public_html 1002"},
			refused:  "alice controls @/home/alice/bobs on the way to the root (owns the symlink), and it leads to @/home/bob/public_html, outside every directory of alice's own",
		},
		{
			name: "a link of root's in a home its owner can write", tree: [][]node{home, etc, {link("home/alice/www", "@/etc/ssl", 0)}},
			given: "home/alice/www", want: "etc/ssl", links: 1,
			controls: []string{"home/alice/www 1001"},
			refused:  "alice controls @/home/alice/www on the way to the root (owns @/home/alice, which holds it)",
		},
		{
			name: "a component of the given path swapped by the home's owner", tree: [][]node{home, etc, {link("home/alice/site", "@/etc", 0)}},
			given: "home/alice/site/ssl", want: "etc/ssl", links: 1,
			controls: []string{"home/alice/site 1001"},
			refused:  "alice controls @/home/alice/site on the way to the root",
		},
		{
			name: "a root of the web server's in the home", tree: [][]node{home, {dir("home/alice/web", 0o755, www, www)}},
			given: "home/alice/web", want: "home/alice/web", owners: []uint32{www},
			controls: []string{"home/alice/web 1001"},
		},
		{
			name: "a root of another user's in the home", tree: [][]node{home, {dir("home/alice/web", 0o755, bob, bob)}},
			given: "home/alice/web", want: "home/alice/web", owners: []uint32{www},
			controls: []string{"home/alice/web 1001"},
			refused:  "and it leads to @/home/alice/web, which belongs to bob, neither alice nor the web server",
		},
		{
			name: "a directory its group may write, with members", tree: [][]node{{dir("shared", 0o775, 0, devs), dir("shared/site", 0o755, 0, 0)}},
			given: "shared/site", want: "shared/site",
			controls: []string{"shared/site 1003", "shared/site 1004"},
			refused:  "carol controls @/shared/site on the way to the root (may write @/shared as a member of group devs), and it leads to @/shared/site, outside every directory of carol's own",
		},
		{
			name: "a directory its group may write, with root alone in it", tree: [][]node{{dir("shared", 0o775, 0, wheel), dir("shared/site", 0o755, 0, 0)}},
			given: "shared/site", want: "shared/site",
		},
		{
			name: "a directory an ACL lets a user write", tree: [][]node{{dir("acl", 0o755, 0, 0), dir("acl/site", 0o755, 0, 0)}}, acl: "acl",
			given: "acl/site", want: "acl/site",
			controls: []string{"acl/site 1001"},
			refused:  "alice controls @/acl/site on the way to the root (may write @/acl by its ACL entry user:alice)",
		},
		{
			name: "a directory every user may write", tree: [][]node{{dir("open", 0o777, 0, 0), dir("open/site", 0o755, 0, 0)}},
			given: "open/site", want: "open/site",
			controls: []string{"open/site *"},
			refused:  "every user controls @/open/site on the way to the root (anyone may write @/open, which holds it), so anyone could send it anywhere",
		},
		{
			name: "a user's directory in a sticky one", tree: [][]node{{dir("tmp", 0o777|fs.ModeSticky, 0, 0), dir("tmp/site", 0o755, alice, alice)}},
			given: "tmp/site", want: "tmp/site",
			controls: []string{"tmp/site 1001"},
		},
		{
			name: "root's directory in a sticky one", tree: [][]node{{dir("tmp", 0o777|fs.ModeSticky, 0, 0), dir("tmp/site", 0o755, 0, 0)}},
			given: "tmp/site", want: "tmp/site",
		},
		{
			name: "a user's link in a sticky directory", tree: [][]node{etc, {dir("tmp", 0o777|fs.ModeSticky, 0, 0), link("tmp/site", "@/etc", alice)}},
			given: "tmp/site", want: "etc", links: 1,
			controls: []string{"tmp/site 1001"},
			refused:  "alice controls @/tmp/site on the way to the root (owns the symlink), and it leads to @/etc",
		},
		{
			name: "a chain of links of root's", tree: [][]node{{dir("www", 0o755, 0, 0), dir("www/site", 0o755, 0, 0), link("a", "b", 0), link("b", "@/c", 0), link("c", "www/./site/", 0)}},
			given: "a", want: "www/site", links: 3,
		},
		{
			name: "a chain of links through a home", tree: [][]node{home, etc, {link("a", "home/alice/www", 0), link("home/alice/www", "@/etc", alice)}},
			given: "a", want: "etc", links: 2,
			controls: []string{"home/alice/www 1001"},
			refused:  "alice controls @/home/alice/www",
		},
		{
			name: "links above the home, of root's", tree: [][]node{{dir("real", 0o755, 0, 0), dir("real/alice", 0o711, alice, alice), dir("real/alice/public_html", 0o755, alice, alice), link("home", "real", 0)}},
			given: "home/alice/public_html", want: "real/alice/public_html", links: 1,
			controls: []string{"real/alice/public_html 1001"},
		},
		{
			name: "a link whose target goes up with ..", tree: [][]node{{dir("x", 0o755, 0, 0), dir("x/y", 0o755, 0, 0), dir("z", 0o755, 0, 0), link("x/y/up", "../../z", 0)}},
			given: "x/y/up", want: "z", links: 1,
		},
		{
			name: ".. after a link goes up from where the link led", tree: [][]node{{dir("x", 0o755, 0, 0), dir("x/y", 0o755, 0, 0), link("l", "x/y", 0)}},
			given: "l/..", want: "x", links: 1,
		},
		{
			name: "a loop of links", tree: [][]node{{link("l1", "l2", 0), link("l2", "l1", 0)}},
			given: "l1", wantErr: unix.ELOOP,
		},
		{
			name: "a missing component", tree: [][]node{home},
			given: "home/alice/nothing/site", wantErr: fs.ErrNotExist,
		},
		{
			name: "a dangling link", tree: [][]node{{link("l", "gone", 0)}},
			given: "l", wantErr: fs.ErrNotExist,
		},
		{
			name: "a file", tree: [][]node{{{path: "f", file: true, mode: 0o644}}},
			given: "f", wantErr: walk.ErrNotDir,
		},
		{
			name: "a file on the way", tree: [][]node{{{path: "f", file: true, mode: 0o644}}},
			given: "f/site", wantErr: unix.ENOTDIR,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := build(t, tt.tree...)
			if tt.acl != "" {
				setACL(t, filepath.Join(base, tt.acl), alice, walk.PermAll)
			}
			rv := &Resolver{Accounts: accounts}
			r, err := rv.Resolve(base + "/" + tt.given) // not Join, which would clean away ".."
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(base, tt.want); r.Path != want {
				t.Errorf("Path = %s, want %s", r.Path, want)
			}
			if len(r.Links) != tt.links {
				t.Errorf("followed %d links (%v), want %d", len(r.Links), r.Links, tt.links)
			}
			// Only what lies below the base is the test's: the base's own ancestors are root's.
			var got []string
			for _, c := range r.Controls {
				who := fmt.Sprint(c.UID)
				if c.Anyone {
					who = "*"
				}
				got = append(got, strings.TrimPrefix(c.Step, base+"/")+" "+who)
			}
			if !slices.Equal(got, tt.controls) {
				t.Errorf("controls = %q, want %q", got, tt.controls)
			}
			err = r.Check(tt.owners...)
			want := strings.ReplaceAll(tt.refused, "@/", base+"/")
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("Check refused: %v", err)
			case tt.refused != "" && err == nil:
				t.Errorf("Check allowed it, want refused with %q", want)
			case tt.refused != "" && !strings.Contains(err.Error(), want):
				t.Errorf("Check: %v\nwant it to say %q", err, want)
			}
			var ref *Refusal
			if err != nil && !errors.As(err, &ref) {
				t.Errorf("Check's error is a %T, want *Refusal", err)
			}
		})
	}
}

func TestResolveEmptyPath(t *testing.T) {
	if _, err := (&Resolver{}).Resolve(""); !errors.Is(err, safefile.ErrEmptyPath) {
		t.Fatalf("Resolve(\"\") = %v, want %v: an empty path must never mean the current directory", err, safefile.ErrEmptyPath)
	}
}

// TestResolveRelative takes a relative path from the current directory, whose own links are
// resolved too.
func TestResolveRelative(t *testing.T) {
	base := build(t, home, etc, []node{link("alice", "home/alice", 0), link("home/alice/www", "@/etc", alice)})
	t.Chdir(filepath.Join(base, "alice"))
	rv := &Resolver{Accounts: accounts}
	// www leads to etc, whose parent is the base, where there is no public_html: the kernel's
	// reading, not the text's.
	if r, err := rv.Resolve("www/../public_html"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("www/../public_html: resolved to %v (%v), want no such file", r, err)
	}
	r, err := rv.Resolve("public_html")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "home/alice/public_html"); r.Path != want {
		t.Errorf("public_html: Path = %s, want %s", r.Path, want)
	}
	if r.Given != "public_html" {
		t.Errorf("Given = %q, want the path as given", r.Given)
	}
}

func TestResolveTrusted(t *testing.T) {
	base := build(t, home, etc, []node{link("home/alice/www", "@/etc", alice)})
	rv := &Resolver{Accounts: accounts, Trusted: []uint32{alice}}
	r, err := rv.Resolve(filepath.Join(base, "home/alice/www"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Controls) != 0 || r.Check() != nil {
		t.Errorf("alice runs webperm herself, yet her link counts: controls %v, check %v", r.Controls, r.Check())
	}
}

// TestUnnamedUser: a user the passwd file does not name is named by uid, and nil accounts are
// no accounts.
func TestUnnamedUser(t *testing.T) {
	base := build(t, etc, []node{dir("home", 0o755, 0, 0), dir("home/x", 0o755, 4321, 4321), link("home/x/www", "@/etc", 4321)})
	r, err := (&Resolver{}).Resolve(filepath.Join(base, "home/x/www"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err == nil || !strings.Contains(err.Error(), "uid 4321 controls") {
		t.Errorf("Check: %v, want uid 4321 named", err)
	}
	if got := r.Followed(); !strings.HasPrefix(got, "followed a symlink uid 4321 controls") {
		t.Errorf("Followed() = %q", got)
	}
}

func TestFollowed(t *testing.T) {
	base := build(t, home, etc, []node{link("home/alice/www", "@/etc", alice), link("www", "etc", 0)})
	rv := &Resolver{Accounts: accounts}
	for given, want := range map[string]string{
		"home/alice/www":         "followed a symlink alice controls (" + base + "/home/alice/www -> " + base + "/etc)",
		"www":                    "",
		"home/alice/public_html": "",
	} {
		r, err := rv.Resolve(filepath.Join(base, given))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Followed(); got != want {
			t.Errorf("%s: Followed() = %q, want %q", given, got, want)
		}
	}
}

func TestSystemDir(t *testing.T) {
	for path, want := range map[string]bool{
		"/": true, "/bin": true, "/boot": true, "/dev": true, "/etc": true, "/home": true, "/lib": true,
		"/lib64": true, "/lib32": true, "/libx32": true, "/proc": true, "/root": true, "/run": true,
		"/sbin": true, "/srv": true, "/sys": true, "/tmp": true, "/usr": true, "/var": true,
		"/var/www": false, "/srv/www": false, "/home/alice": false, "/lib/x": false, "/etc/nginx": false,
		"/usr/share/nginx/html": false, "/opt": true, "/opt/app/public": false, "/tmpsite": false,
		"/var/tmp": true, "/var/lib": true, "/var/log": true, "/var/lib/wordpress": false, "/media": true, "/mnt": true,
		"/usr/lib": true, "/usr/lib64": true, "/usr/bin": true, "/usr/sbin": true, "/usr/local": true, "/usr/local/www": false, "/usr/lib/cgi-bin": false,
		"/mnt/image": true, "/mnt/image/etc": true, "/mnt/image/lib64": true, "/mnt/image/var/www": false, "/mnt/imagery": false,
		// Below /dev, /proc and /sys lies only the kernel's: /dev/shm is everyone's 1777.
		"/dev/shm": true, "/dev/pts": true, "/proc/1": true, "/sys/kernel/mm": true, "/mnt/image/dev/shm": true,
		"/devel": false, "/sysroot": false, "/procedures": false,
	} {
		if got := SystemDir(path, "/mnt/image"); got != want {
			t.Errorf("SystemDir(%s, /mnt/image) = %v, want %v", path, got, want)
		}
	}
	if SystemDir("/srv/www", "/") || !SystemDir("/etc", "/") {
		t.Errorf("with the host as the system, only the host's directories are system directories")
	}
}

// TestSameDir: a resolved path is taken only if it still names, with no symlink on the way, the
// directory its steps led to.
func TestSameDir(t *testing.T) {
	base := build(t, []node{dir("a", 0o755, 0, 0), dir("b", 0o755, 0, 0), link("l", "a", 0)})
	a, err := examine(filepath.Join(base, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sameDir(&a); err != nil {
		t.Errorf("a directory as it was: %v", err)
	}
	// Swapped since: b is now where a was.
	if err := os.Rename(filepath.Join(base, "a"), filepath.Join(base, "a.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(base, "b"), filepath.Join(base, "a")); err != nil {
		t.Fatal(err)
	}
	if err := sameDir(&a); !errors.Is(err, errMoved) {
		t.Errorf("another directory in its place: %v, want %v", err, errMoved)
	}
	// A symlink now on the way.
	through := a
	through.Path = filepath.Join(base, "l")
	if err := sameDir(&through); !errors.Is(err, errMoved) {
		t.Errorf("a symlink in its place: %v, want %v", err, errMoved)
	}
}
