package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// outcome is the status each server answers for a file.
type outcome struct{ nginx, apache int }

var (
	served    = outcome{nginx: 200, apache: 200}
	forbidden = outcome{nginx: 403, apache: 403}
	// Apache reads the .htaccess of every directory on the way to a file and refuses the request
	// when one is unreadable; nginx never reads them.
	belowBadHtaccess = outcome{nginx: 200, apache: 403}
)

// testGroup stands, in the tree below, for the group joinTestGroup makes.
const testGroup = "wpe2e"

// node is one entry of the docroot. Everything is owned by root, so www-data reaches an entry as
// "other", through a group or through an ACL, never as its owner: each case is about one thing.
// Each case has a directory of its own, with a readable control.html beside it, so the case's
// neighbours show that the server does answer 200 there.
type node struct {
	path  string // relative to the docroot, slash-separated
	dir   bool
	mode  fs.FileMode
	group string  // "root", "www-data" or testGroup
	acl   string  // entries for setfacl -m, set after the mode (chmod would rewrite the mask)
	want  outcome // files only
	// link, where set, makes the node a symlink to it (written as is; mode and group unused). A
	// link is not a file the servers are asked for: the cases are the files beside it.
	link string
}

func dir(path string, mode fs.FileMode) node {
	return node{path: path, dir: true, mode: mode, group: "root"}
}

func file(path string, mode fs.FileMode, want outcome) node {
	return node{path: path, mode: mode, group: "root", want: want}
}

func symlink(path, target string) node {
	return node{path: path, group: "root", link: target}
}

func (n node) inGroup(g string) node { n.group = g; return n }
func (n node) withACL(a string) node { n.acl = a; return n }

// tree is the docroot. Its two audited roots are site and home/public_html.
var tree = []node{
	dir("site", 0o755),
	file("site/index.html", 0o644, served),

	// www-data is "other" to root's 0600.
	dir("site/file-0600", 0o755),
	file("site/file-0600/control.html", 0o644, served),
	file("site/file-0600/page.html", 0o600, forbidden),

	// Group read, through www-data's primary group, its supplementary group, or neither.
	dir("site/group-www-data", 0o755),
	file("site/group-www-data/control.html", 0o644, served),
	file("site/group-www-data/page.html", 0o640, served).inGroup("www-data"),
	dir("site/group-supplementary", 0o755),
	file("site/group-supplementary/control.html", 0o644, served),
	file("site/group-supplementary/page.html", 0o640, served).inGroup(testGroup),
	dir("site/group-root", 0o755),
	file("site/group-root/control.html", 0o644, served),
	file("site/group-root/page.html", 0o640, forbidden),

	// Reading a file takes search (x) on its directory, not read (r).
	dir("site/dir-no-search", 0o755),
	file("site/dir-no-search/control.html", 0o644, served),
	dir("site/dir-no-search/closed", 0o644),
	file("site/dir-no-search/closed/page.html", 0o644, forbidden),
	dir("site/dir-search-only", 0o755),
	file("site/dir-search-only/control.html", 0o644, served),
	dir("site/dir-search-only/open", 0o311),
	file("site/dir-search-only/open/page.html", 0o644, served),

	// ACLs: a named-user entry opens what the mode closes; a mask limits the named user. A mask of
	// --- is special: the kernel then skips the ACL, and everyone but the owner gets the mode's
	// bits, so www-data reads the "mask-none-other-reads" file through the other bits.
	dir("site/acl-user-read", 0o755),
	file("site/acl-user-read/control.html", 0o644, served),
	file("site/acl-user-read/page.html", 0o600, served).withACL("u:www-data:r"),
	dir("site/acl-mask-denies", 0o755),
	file("site/acl-mask-denies/control.html", 0o644, served),
	file("site/acl-mask-denies/page.html", 0o640, forbidden).inGroup("www-data").withACL("u:www-data:r,m::---"),
	file("site/acl-mask-denies/masked.html", 0o600, forbidden).withACL("u:www-data:r,m::x"),
	file("site/acl-mask-denies/mask-none-other-reads.html", 0o604, served).withACL("u:www-data:r,m::---"),
	dir("site/acl-dir-search", 0o755),
	file("site/acl-dir-search/control.html", 0o644, served),
	dir("site/acl-dir-search/closed", 0o700).withACL("u:www-data:x"),
	file("site/acl-dir-search/closed/page.html", 0o644, served),

	// The servers part ways on an unreadable .htaccess: nginx serves it as any file, Apache
	// (AllowOverride All) cannot read the directory's configuration and refuses all below it.
	dir("site/htaccess-unreadable", 0o755),
	file("site/htaccess-unreadable/.htaccess", 0o600, forbidden),
	file("site/htaccess-unreadable/index.html", 0o644, belowBadHtaccess),
	dir("site/htaccess-unreadable/sub", 0o755),
	file("site/htaccess-unreadable/sub/page.html", 0o644, belowBadHtaccess),

	// Apache opens .htaccess following symlinks: a link to a file www-data cannot read refuses the
	// directory as an unreadable .htaccess does (the target, 0600, is refused by both servers). A
	// link to a readable file is read as the directory's .htaccess, and a dangling one is as no
	// .htaccess at all; a link that loops cannot be opened (ELOOP): 403. An .htaccess that is a
	// directory is "not a regular file": 403 below it.
	dir("site/htaccess-link-unreadable", 0o755),
	file("site/htaccess-link-unreadable/htaccess.conf", 0o600, forbidden),
	symlink("site/htaccess-link-unreadable/.htaccess", "htaccess.conf"),
	file("site/htaccess-link-unreadable/index.html", 0o644, belowBadHtaccess),
	dir("site/htaccess-link-unreadable/sub", 0o755),
	file("site/htaccess-link-unreadable/sub/page.html", 0o644, belowBadHtaccess),
	dir("site/htaccess-link-readable", 0o755),
	file("site/htaccess-link-readable/htaccess.conf", 0o644, served),
	symlink("site/htaccess-link-readable/.htaccess", "htaccess.conf"),
	file("site/htaccess-link-readable/index.html", 0o644, served),
	dir("site/htaccess-link-dangling", 0o755),
	symlink("site/htaccess-link-dangling/.htaccess", "missing.conf"),
	file("site/htaccess-link-dangling/index.html", 0o644, served),
	dir("site/htaccess-link-loop", 0o755),
	symlink("site/htaccess-link-loop/.htaccess", ".htaccess"),
	file("site/htaccess-link-loop/index.html", 0o644, belowBadHtaccess),
	dir("site/htaccess-dir", 0o755),
	dir("site/htaccess-dir/.htaccess", 0o755),
	file("site/htaccess-dir/index.html", 0o644, belowBadHtaccess),

	// A closed directory above an audited root (home/public_html) closes the root.
	dir("home", 0o700),
	dir("home/public_html", 0o755),
	file("home/public_html/index.html", 0o644, forbidden),
	file("home/public_html/page.html", 0o644, forbidden),
}

// makeDocroot builds tree in a fresh directory and returns the directory's real path, the one
// webperm reports (it resolves symlinks, as in a symlinked TMPDIR).
func makeDocroot(t *testing.T, tl tools, gids map[string]int) string {
	t.Helper()
	root, err := os.MkdirTemp("", "webperm-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(root); err != nil {
			t.Errorf("removing the docroot: %v", err)
		}
	})
	if root, err = filepath.EvalSymlinks(root); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil { // MkdirTemp makes it 0700
		t.Fatal(err)
	}
	requireSearchableAncestors(t, root)
	for _, n := range tree {
		makeNode(t, tl, root, n, gids)
	}
	return root
}

func makeNode(t *testing.T, tl tools, root string, n node, gids map[string]int) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(n.path))
	if n.link != "" {
		if err := os.Symlink(n.link, p); err != nil {
			t.Fatal(err)
		}
		return
	}
	var err error
	if n.dir {
		err = os.Mkdir(p, 0o700)
	} else {
		// A comment: once the fix lets Apache read an .htaccess, it must parse.
		err = os.WriteFile(p, []byte("# webperm e2e: "+n.path+"\n"), 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	gid, ok := gids[n.group]
	if !ok {
		t.Fatalf("%s: unknown group %q", n.path, n.group)
	}
	if err := os.Lchown(p, 0, gid); err != nil {
		t.Fatal(err)
	}
	// Set the mode explicitly: creation modes pass through the umask.
	if err := os.Chmod(p, n.mode); err != nil {
		t.Fatal(err)
	}
	if n.acl != "" {
		mustRun(t, tl["setfacl"], "-m", n.acl, p)
	}
}

// requireSearchableAncestors fails early, and plainly, when www-data cannot even reach the
// docroot, which would turn every answer into 403.
func requireSearchableAncestors(t *testing.T, root string) {
	t.Helper()
	for d := filepath.Dir(root); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&0o001 == 0 {
			t.Fatalf("%s (mode %v) is not searchable by others, so %s cannot reach the docroot %s; set TMPDIR to a directory it can reach", d, fi.Mode(), webUser, root)
		}
		if d == filepath.Dir(d) {
			return
		}
	}
}

// regularFiles lists every regular file below root, as slash-separated paths relative to it.
func regularFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// treeFiles is tree's files, by path.
func treeFiles() map[string]node {
	out := map[string]node{}
	for _, n := range tree {
		if !n.dir && n.link == "" {
			out[n.path] = n
		}
	}
	return out
}
