package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestPlanIsDeterministic(t *testing.T) {
	a, b := plan(7, 5000, deploy), plan(7, 5000, deploy)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans of seed 7 differ")
	}
	if reflect.DeepEqual(a, plan(8, 5000, deploy)) {
		t.Fatal("seeds 7 and 8 plan the same tree")
	}
	// A bigger tree of the same seed starts as the smaller one does.
	big := plan(7, 6000, deploy)
	if !reflect.DeepEqual(a[:1000], big[:1000]) {
		t.Fatal("the first entries of seed 7 depend on the size asked for")
	}
}

func TestPlanShape(t *testing.T) {
	for _, n := range []int{0, 1, 17, 5000, 60000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			nodes := plan(1, n, deploy)
			if got := len(nodes) - 1; got != n {
				t.Fatalf("planned %d entries below the root, want %d", got, n)
			}
			seen := map[string]bool{}
			count := map[kind]int{}
			for i, nd := range nodes[1:] {
				count[nd.kind]++
				if int(nd.parent) > i || nodes[nd.parent].kind != dirKind {
					t.Fatalf("entry %d (%s) has parent %d, not an earlier directory", i+1, nd.name, nd.parent)
				}
				key := fmt.Sprint(nd.parent, "/", nd.name)
				if seen[key] || nd.name == "" || strings.Contains(nd.name, "/") {
					t.Fatalf("bad or repeated name %q in %s", nd.name, path(nodes, nd.parent))
				}
				seen[key] = true
				if nd.kind == dirKind && nd.mode&0o700 != 0o700 {
					t.Fatalf("directory %s has mode %04o: its owner could not fill it", path(nodes, int32(i+1)), nd.mode)
				}
			}
			if n >= 5000 && (count[dirKind] < n/20 || count[fileKind] < n/2 || count[linkKind] == 0) {
				t.Fatalf("%d entries make %d directories, %d files, %d links: not a web root's mix", n, count[dirKind], count[fileKind], count[linkKind])
			}
		})
	}
}

func TestPlanVariants(t *testing.T) {
	const n = 60000
	base := plan(3, n, deploy)
	modes := map[uint16]int{}
	sensitive := 0
	for _, nd := range base {
		if nd.uid != deployID || nd.gid != deployID {
			t.Fatalf("%s is owned by %d:%d in the deploy variant", nd.name, nd.uid, nd.gid)
		}
		modes[nd.mode]++
		switch nd.name {
		case ".env", "wp-config.php.bak", "backup.sql", ".htpasswd", "id_rsa", ".git":
			sensitive++
		}
	}
	for _, m := range []uint16{0o644, 0o755, 0o664, 0o775, 0o777} {
		if modes[m] == 0 {
			t.Errorf("no entry of mode %04o in %d entries: %v", m, n, modes)
		}
	}
	if modes[0o644] < n/2 || sensitive == 0 {
		t.Errorf("modes %v and %d sensitive names: not a deploy's tree with a few faults", modes, sensitive)
	}

	for _, v := range []variant{wwwData, open} {
		nodes := plan(3, n, v)
		if len(nodes) != len(base) {
			t.Fatalf("%s: %d entries, deploy has %d", v, len(nodes), len(base))
		}
		for i, nd := range nodes {
			same := base[i]
			same.uid, same.gid, same.mode = nd.uid, nd.gid, nd.mode
			if nd != same {
				t.Fatalf("%s: entry %d is %+v, deploy's is %+v: not the same tree", v, i, nd, base[i])
			}
			switch v {
			case wwwData:
				if nd.uid != webID || nd.gid != webID || nd.mode != base[i].mode {
					t.Fatalf("www-data: %s is %d:%d %04o, want 33:33 %04o", nd.name, nd.uid, nd.gid, nd.mode, base[i].mode)
				}
			case open:
				if nd.kind != linkKind && nd.mode&0o002 == 0 {
					t.Fatalf("open: %s has mode %04o, not world-writable", nd.name, nd.mode)
				}
			}
		}
	}
}

// manifest lists a tree on disk, one line an entry: path, type, mode, owner, link target and
// contents.
func manifest(t *testing.T, root string, owners bool) []string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		line := fmt.Sprintf("%s %o", rel, st.Mode)
		if owners {
			line += fmt.Sprintf(" %d:%d", st.Uid, st.Gid)
		}
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFLNK:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
		case syscall.S_IFREG:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %q", data)
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// planned is the manifest the plan promises.
func planned(nodes []node, owners bool) []string {
	lines := make([]string, len(nodes))
	for i, nd := range nodes {
		mode := uint32(nd.mode)
		switch nd.kind {
		case dirKind:
			mode |= syscall.S_IFDIR
		case fileKind:
			mode |= syscall.S_IFREG
		case linkKind:
			mode |= syscall.S_IFLNK
		}
		line := fmt.Sprintf("%s %o", path(nodes, int32(i)), mode)
		if owners {
			line += fmt.Sprintf(" %d:%d", nd.uid, nd.gid)
		}
		switch nd.kind {
		case linkKind:
			line += " -> " + nd.target
		case fileKind:
			line += fmt.Sprintf(" %q", nd.data)
		}
		lines[i] = line
	}
	slices.Sort(lines)
	return lines
}

func TestCreateMakesThePlannedTree(t *testing.T) {
	owners := os.Geteuid() == 0
	if !owners {
		t.Log("not root: owners are not set, so only names, types, modes, targets and contents are compared")
	}
	for _, v := range []variant{deploy, wwwData, open} {
		t.Run(string(v), func(t *testing.T) {
			nodes := plan(5, 3000, v)
			var trees [2][]string
			for i := range trees {
				dir := filepath.Join(t.TempDir(), "tree")
				if err := create(dir, nodes, 1+i*runtime.NumCPU()*4, owners); err != nil {
					t.Fatal(err)
				}
				trees[i] = manifest(t, dir, owners)
				slices.Sort(trees[i])
			}
			if len(trees[0]) != 3001 {
				t.Fatalf("the tree holds %d entries with its root, want 3001", len(trees[0]))
			}
			if !slices.Equal(trees[0], trees[1]) {
				t.Fatal("one worker and many made different trees from one plan")
			}
			want := planned(nodes, owners)
			for i := range want {
				if trees[0][i] != want[i] {
					t.Fatalf("on disk %q, planned %q", trees[0][i], want[i])
				}
			}
		})
	}
}

func TestCreateRefusesAFullDirectory(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := create(dir, plan(1, 100, deploy), 2, false)
	if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("create into a directory holding a file: %v, want a not-empty error naming it", err)
	}
	names, _ := os.ReadDir(dir)
	if len(names) != 1 {
		t.Fatalf("the refused directory holds %d entries, want only keep.txt", len(names))
	}
	// An empty directory is taken, a missing parent is not made.
	if err := create(t.TempDir(), plan(1, 100, deploy), 2, false); err != nil {
		t.Fatalf("create into an empty directory: %v", err)
	}
	if err := create(filepath.Join(dir, "no", "tree"), plan(1, 100, deploy), 2, false); err == nil {
		t.Fatal("create below a missing directory succeeded")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "250": 250, "100k": 100000, "300K": 300000, "1M": 1000000} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "k", "-5", "1.5M", "1G", "101M"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

func TestRun(t *testing.T) {
	var stderr bytes.Buffer
	dir := filepath.Join(t.TempDir(), "tree")
	if code := run([]string{"-n", "500", "-variant", "open", "-seed", "9", dir}, &stderr); code != 0 {
		t.Fatalf("run: exit %d, %s", code, &stderr)
	}
	if !strings.Contains(stderr.String(), "500 entries") {
		t.Errorf("summary %q does not give the count", &stderr)
	}
	for _, args := range [][]string{{"-variant", "mine", dir + "2"}, {"-n", "lots", dir + "2"}, {}, {"-jobs", "0", dir + "2"}} {
		stderr.Reset()
		if code := run(args, &stderr); code != 2 {
			t.Errorf("run %q: exit %d, want 2 (%s)", args, code, &stderr)
		}
	}
	stderr.Reset()
	if code := run([]string{"-n", "10", dir}, &stderr); code != 1 || !strings.Contains(stderr.String(), "not empty") {
		t.Errorf("a second run into the same directory: exit %d, %s", code, &stderr)
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "100k", "1M", "300K", "-1", "99999999999999999999M", "1e6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			return
		}
		if n < 0 || n > 100000000 {
			t.Fatalf("parseSize(%q) = %d, outside 0..100M", s, n)
		}
		if again, err := parseSize(strconv.Itoa(n)); err != nil || again != n {
			t.Fatalf("parseSize(%q) = %d, but %d reads back as %d, %v", s, n, n, again, err)
		}
	})
}
