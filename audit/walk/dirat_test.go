package walk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/internal/fixture"
)

// walkEntries walks root on the operating system's file system, with the descriptor reader or
// the generic one, and returns every entry and error in walk order.
func walkEntries(t *testing.T, root string, fast bool) (entries []Entry, errs []string) {
	t.Helper()
	defer func(was bool) { fastDirs = was }(fastDirs)
	fastDirs = fast
	w := &Walker{Fs: afero.NewOsFs(), Jobs: 2}
	err := w.Walk(context.Background(), root, Visitor{
		Entry: func(e Entry) { entries = append(entries, e) },
		Error: func(p string, err error) { errs = append(errs, fmt.Sprintf("%q: %v", p, err)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return entries, errs
}

func auditWith(t *testing.T, root string, fast bool) Audited {
	t.Helper()
	defer func(was bool) { fastDirs = was }(fastDirs)
	fastDirs = fast
	return Audit(t, root, 2)
}

// oddTree makes a tree of every kind of entry the walk meets, with attributes, odd names and
// links of every sort, and returns its root.
func oddTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(fixture.TempDir(t), "site")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel string, mode os.FileMode, uid, gid int) {
		p := filepath.Join(root, rel)
		must(os.WriteFile(p, []byte("<?php\n"), 0o600))
		must(os.Chmod(p, mode))
		if asRoot {
			must(os.Lchown(p, uid, gid))
		}
	}
	mkdir := func(rel string, mode os.FileMode, uid, gid int) {
		p := filepath.Join(root, rel)
		must(os.Mkdir(p, 0o700))
		if asRoot {
			must(os.Lchown(p, uid, gid))
		}
		must(os.Chmod(p, mode))
	}
	must(os.Mkdir(root, 0o755))
	write("index.php", 0o644, 1000, 33)
	write("config.php", 0o666, 33, 33)
	write("setuid", 0o4755|os.ModeSetuid, 0, 0)
	must(os.Chmod(filepath.Join(root, "setuid"), 0o755|os.ModeSetuid))
	write("bad\xff\xfename.php", 0o646, 1000, 1000)
	write("new\nline.php", 0o640, 1000, 33)
	must(os.Link(filepath.Join(root, "index.php"), filepath.Join(root, "hardlink.php")))
	mkdir("uploads", 0o777, 33, 33)
	write("uploads/shell.php", 0o666, 33, 33)
	mkdir("sticky", 0o1777, 0, 0)
	mkdir("locked", 0o000, 1000, 1000)
	write("locked/secret", 0o644, 1000, 1000)
	mkdir("locked/below", 0o755, 1000, 1000)
	for name, target := range map[string]string{
		"dangling": "nowhere", "loop": "loop", "loop-a": "loop-b", "loop-b": "loop-a",
		"relative.php": "index.php", "to-dir": "uploads",
		"to-parent": "..", "through-file": "index.php/x", "to-locked": "locked/secret",
		"uploads/up.php": "../config.php", "to-writable.php": "uploads/shell.php",
	} {
		must(os.Symlink(target, filepath.Join(root, name)))
	}
	must(os.Symlink(filepath.Join(root, "index.php"), filepath.Join(root, "absolute")))
	must(os.Symlink("/", filepath.Join(root, "to-slash")))
	long := strings.Repeat("l", 300)
	must(os.Symlink(long, filepath.Join(root, "long-target")))
	must(unix.Mkfifo(filepath.Join(root, "fifo"), 0o622))
	l, err := net.Listen("unix", filepath.Join(root, "socket"))
	must(err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if asRoot {
		must(unix.Mknod(filepath.Join(root, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		must(unix.Mknod(filepath.Join(root, "loop0"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 0))))
	}
	// Attributes: an ACL granting the web user, capabilities, and more names than attrScratch
	// holds, so that listing them grows its buffer.
	if _, err := exec.LookPath("setfacl"); err == nil {
		for _, args := range [][]string{
			{"-m", "u:33:rwx,g:2001:r", filepath.Join(root, "index.php")},
			{"-m", "u:1000:rwx", filepath.Join(root, "uploads")},
			{"-m", "g:33:rw", filepath.Join(root, "bad\xff\xfename.php")},
		} {
			if out, err := exec.Command("setfacl", args...).CombinedOutput(); err != nil {
				t.Fatalf("setfacl %v: %v: %s", args, err, out)
			}
		}
	} else {
		t.Log("no setfacl: the tree has no ACL")
	}
	if _, err := exec.LookPath("setcap"); err == nil && asRoot {
		write("capable", 0o755, 0, 0)
		if out, err := exec.Command("setcap", "cap_net_bind_service,cap_dac_override=ep", filepath.Join(root, "capable")).CombinedOutput(); err != nil {
			t.Fatalf("setcap: %v: %s", err, out)
		}
	} else {
		t.Log("no setcap, or not root: the tree has no capabilities")
	}
	for i := range 12 {
		name := fmt.Sprintf("user.webperm-test-attribute-with-a-long-name-%02d", i)
		if err := unix.Lsetxattr(filepath.Join(root, "config.php"), name, []byte("x"), 0); err != nil {
			t.Logf("user attributes: %v", err)
			break
		}
	}
	return root
}

// TestFastWalkMatchesGeneric walks one real tree with the descriptor reader, each way it reads
// attributes, and with the generic reader through afero, and wants the same entries, errors and
// report, field by field.
func TestFastWalkMatchesGeneric(t *testing.T) {
	root := oddTree(t)
	want, wantErrs := walkEntries(t, root, false)
	wantReport := auditWith(t, root, false)
	steady(reflect.ValueOf(want), root)
	steady(reflect.ValueOf(wantReport.Report), root)
	if len(want) < 25 {
		t.Fatalf("the generic walk saw only %d entries", len(want))
	}
	if len(wantReport.Findings) == 0 {
		t.Fatal("the generic audit found nothing in a tree made to have findings")
	}
	// The kernel's way is settled first, so that the ways set below stay.
	t.Logf("this kernel reads attributes by name with %v", map[int]string{xattrAtSyscalls: "listxattrat", xattrAtProc: "/proc/self/fd", xattrAtPath: "full paths"}[xattrAt()])
	defer func(was int) { xattrAtWay = was }(xattrAtWay)
	ways := map[int]string{xattrAtSyscalls: "listxattrat", xattrAtProc: "proc", xattrAtPath: "path"}
	for way := xattrAtSyscalls; way <= xattrAtPath; way++ {
		t.Run(ways[way], func(t *testing.T) {
			xattrAtWay = way
			got, gotErrs := walkEntries(t, root, true)
			steady(reflect.ValueOf(got), root)
			compareWalks(t, got, want, gotErrs, wantErrs)
			rep := auditWith(t, root, true)
			steady(reflect.ValueOf(rep.Report), root)
			if !reflect.DeepEqual(rep.Report, wantReport.Report) {
				t.Errorf("reports differ:\nfast    %+v\ngeneric %+v", rep.Findings, wantReport.Findings)
			}
		})
	}
	var kinds []string
	for _, e := range want {
		switch {
		case e.ACL != nil:
			kinds = append(kinds, "acl")
		case e.Capabilities.Has():
			kinds = append(kinds, "capabilities")
		}
		kinds = append(kinds, e.Type.String())
	}
	for _, kind := range []string{"acl", "capabilities", "char-device", "block-device", "symlink", "fifo", "socket", "dir", "file"} {
		if !strings.Contains(strings.Join(kinds, " "), kind) {
			t.Errorf("the tree has no %s: %v", kind, kinds)
		}
	}

	t.Run("as nobody", func(t *testing.T) {
		if !asRoot {
			t.Skip("needs root to become another user")
		}
		// The effective uid only, all threads at once (Go's setresuid): the saved uid 0 turns
		// it back.
		if err := unix.Setresuid(-1, 65534, 0); err != nil {
			t.Fatal(err)
		}
		want, wantErrs := walkEntries(t, root, false)
		got, gotErrs := walkEntries(t, root, true)
		if err := unix.Setresuid(-1, 0, 0); err != nil {
			panic("cannot become root again: " + err.Error())
		}
		if len(wantErrs) == 0 {
			t.Error("nobody met no error in a tree with a 0000 directory")
		}
		compareWalks(t, got, want, gotErrs, wantErrs)
	})
}

func compareWalks(t *testing.T, got, want []Entry, gotErrs, wantErrs []string) {
	t.Helper()
	if !reflect.DeepEqual(gotErrs, wantErrs) {
		t.Errorf("errors differ:\nfast    %q\ngeneric %q", gotErrs, wantErrs)
	}
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("fast walk lacks %q", want[i].Rel)
		case i >= len(want):
			t.Errorf("fast walk has %q too", got[i].Rel)
		case !reflect.DeepEqual(got[i], want[i]):
			t.Errorf("entry %d differs:\nfast    %+v\ngeneric %+v", i, got[i], want[i])
			if got[i].Dest != nil && want[i].Dest != nil {
				t.Errorf("its destination:\nfast    %+v\ngeneric %+v", *got[i].Dest, *want[i].Dest)
			}
		}
	}
}

// steady clears the link counts of every Entry in v that lies outside root: the directories
// above the tree a link's destination records (/tmp) change their counts as other tests make and
// remove directories beside it, between one walk and the next.
func steady(v reflect.Value, root string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			steady(v.Elem(), root)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			steady(v.Index(i), root)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			steady(v.MapIndex(k), root) // map values are copies: only what they point to changes
		}
	case reflect.Struct:
		if v.CanAddr() {
			if e, ok := v.Addr().Interface().(*Entry); ok && !Within(e.Path, root) {
				e.Nlink = 0
			}
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				steady(v.Field(i), root)
			}
		}
	}
}

func TestChildRel(t *testing.T) {
	for _, c := range []struct{ p, rel, name, want string }{
		{"/srv/site/a", ".", "a", "a"},
		{"/srv/site/a/b", "a", "b", "a/b"},
		{"/a/b", "a", "b", "a/b"},
		{"/x/b", "a", "b", "a/b"},    // p does not end with rel/name: built anew
		{"b", "a", "b", "a/b"},       // p shorter than rel/name
		{"/srv/ab", "a", "b", "a/b"}, // no slash between
	} {
		got := childRel(c.p, c.rel, c.name)
		if got != c.want {
			t.Errorf("childRel(%q, %q, %q) = %q, want %q", c.p, c.rel, c.name, got, c.want)
		}
	}
	p := "/srv/site/a/b"
	if r := childRel(p, "a", "b"); unsafe.StringData(r) != unsafe.StringData(p[len(p)-3:]) {
		t.Error("childRel copied a path it could share")
	}
}

// childPrefix and a name is the path filepath.Join makes of a directory and that name, for clean
// directories and others.
func TestChildPrefix(t *testing.T) {
	for _, dir := range []string{"/", "/srv/site", "/srv/site/", "/srv//site", "/srv/./site/..", ".", "site", "./site", "a/../..", "//"} {
		for _, name := range []string{"a", "index.php", ".htaccess", "..a", "a b"} {
			if got, want := childPrefix(dir)+name, filepath.Join(dir, name); got != want {
				t.Errorf("childPrefix(%q) + %q = %q, want %q", dir, name, got, want)
			}
		}
	}
}

// readPathsAt reads a directory larger than one getdents64 batch whole, each name once, with
// the prefix before it and neither "." nor "..".
func TestReadPathsAt(t *testing.T) {
	dir := t.TempDir()
	want := map[string]bool{}
	for i := range 3000 { // some 100 KB of dirents: several batches
		name := fmt.Sprintf("entry-with-a-longish-name-%04d.php", i)
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want["p/"+name] = true
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	paths, err := readPathsAt(fd, "p/")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(want) {
		t.Errorf("read %d paths, want %d", len(paths), len(want))
	}
	for _, p := range paths {
		if !want[p] {
			t.Errorf("read %q, which is not in the directory or read twice", p)
		}
		delete(want, p)
	}
}

// openFds counts the process's open descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds) - 1 // ReadDir's own
}

// The walk opens each directory from its parent's descriptor while it holds it, and holds at most
// maxHeld at once: past them it opens directories by path, and visits the same entries in the
// same order. No descriptor outlives a walk, finished or cancelled.
func TestWalkHoldsFewDescriptors(t *testing.T) {
	root := filepath.Join(fixture.TempDir(t), "site")
	n := fixture.WideTree(t, afero.NewOsFs(), root, 4, 4, 2)
	want, _ := walkEntries(t, root, false)
	defer func(was int) { maxHeld = was }(maxHeld)
	for _, held := range []int{0, 3, 256} {
		for _, jobs := range []int{1, 3} {
			maxHeld = held
			base := openFds(t)
			most, seen := 0, 0
			w := &Walker{Fs: afero.NewOsFs(), Jobs: jobs}
			ctx, cancel := context.WithCancel(context.Background())
			var got []Entry
			err := w.Walk(ctx, root, Visitor{
				Entry: func(e Entry) {
					got = append(got, e)
					if seen++; seen%7 == 0 {
						most = max(most, openFds(t)-base)
					}
				},
				Error: func(p string, err error) { t.Errorf("%s: %v", p, err) },
			})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			// Each reader has the directory it reads open, beside those held.
			if most > held+jobs {
				t.Errorf("maxHeld %d, %d jobs: %d descriptors open at once", held, jobs, most)
			}
			if left := openFds(t) - base; left != 0 {
				t.Errorf("maxHeld %d, %d jobs: %d descriptors left open after the walk", held, jobs, left)
			}
			if len(got) != n || !reflect.DeepEqual(got, want) {
				t.Errorf("maxHeld %d, %d jobs: %d entries, not those the generic reader sees (%d)", held, jobs, len(got), len(want))
			}
		}
	}

	// Stopped after a few entries, with workers far ahead, the walk closes what it held.
	base := openFds(t)
	ctx, cancel := context.WithCancel(context.Background())
	seen := 0
	w := &Walker{Fs: afero.NewOsFs(), Jobs: 3}
	err := w.Walk(ctx, root, Visitor{
		Entry: func(Entry) {
			if seen++; seen == 20 {
				cancel()
			}
		},
		Error: func(string, error) {},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("walk: %v, want it cancelled", err)
	}
	if left := openFds(t) - base; left != 0 {
		t.Errorf("%d descriptors left open by a cancelled walk", left)
	}
}

// Where the process may open few descriptors, the walk holds fewer and reads every directory.
func TestWalkHeldWithinRlimit(t *testing.T) {
	root := filepath.Join(fixture.TempDir(t), "site")
	n := fixture.WideTree(t, afero.NewOsFs(), root, 4, 4, 2)
	var was unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &was); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &was)
	low := was
	low.Cur = uint64(openFds(t) + 24)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	if got := heldBudget(); got != int(low.Cur/4) {
		t.Errorf("%d descriptors held at most under a limit of %d, want a quarter", got, low.Cur)
	}
	entries, errs := walkEntries(t, root, true)
	if len(entries) != n || len(errs) > 0 {
		t.Errorf("under a limit of %d descriptors: %d entries of %d, errors %q", low.Cur, len(entries), n, errs)
	}
}
