package fixer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// Apply and undo change owners, so their tests need root; CI runs them as root.
func diskRequireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: apply and undo chown files to other users")
	}
}

// diskTempDir is t.TempDir with symlinks resolved: apply refuses a root reached through one, and
// TMPDIR may be.
func diskTempDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// diskSet gives p the owner and then the mode in s: in that order, since chown clears setuid.
func diskSet(t *testing.T, p string, s State) {
	t.Helper()
	if err := os.Lchown(p, int(s.UID), int(s.GID)); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(p, policy.UnixMode(s.Mode)); err != nil {
		t.Fatal(err)
	}
}

func diskMkdir(t *testing.T, p string, s State) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	diskSet(t, p, s)
}

func diskWrite(t *testing.T, p string, s State) {
	t.Helper()
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	diskSet(t, p, s)
}

func diskSymlink(t *testing.T, dest, p string) {
	t.Helper()
	if err := os.Symlink(dest, p); err != nil {
		t.Fatal(err)
	}
}

func diskRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
}

func diskRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func diskStat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// diskState is p's mode and owner, a symlink's own.
func diskState(t *testing.T, p string) State {
	t.Helper()
	st := diskStat(t, p)
	return State{Mode: policy.FromUnix(st.Mode & 0o7777), UID: st.Uid, GID: st.Gid}
}

// diskAction plans p's change to want from what Lstat says of it now, as the audit would.
func diskAction(t *testing.T, root, p string, want State) Action {
	t.Helper()
	st := diskStat(t, p)
	return Action{
		Path:    p,
		Root:    root,
		Type:    unixType(st.Mode),
		Dev:     st.Dev,
		Ino:     st.Ino,
		Current: State{Mode: policy.FromUnix(st.Mode & 0o7777), UID: st.Uid, GID: st.Gid},
		Target:  want,
	}
}

func diskRoot(t *testing.T, p string) Root {
	t.Helper()
	st := diskStat(t, p)
	return Root{Path: p, Dev: st.Dev, Ino: st.Ino}
}

// diskEntry is one entry of a tree as diskTree sees it.
type diskEntry struct {
	State
	Type     walk.Type
	Ino      uint64
	Nlink    uint64
	Linkdest string
}

// diskTree records every entry below dir, dir included, without following symlinks, by path.
func diskTree(t *testing.T, dir string) map[string]diskEntry {
	t.Helper()
	out := map[string]diskEntry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st := diskStat(t, p)
		e := diskEntry{State: diskState(t, p), Type: unixType(st.Mode), Ino: st.Ino, Nlink: uint64(st.Nlink)}
		if e.Type == walk.TypeSymlink {
			e.Linkdest, _ = os.Readlink(p)
		}
		out[p] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diskTreeDiff lists how after differs from before, except at the paths in changed, which must
// have the state given there.
func diskTreeDiff(before, after map[string]diskEntry, changed map[string]State) []string {
	var diffs []string
	for p, b := range before {
		a, ok := after[p]
		if !ok {
			diffs = append(diffs, p+": gone")
			continue
		}
		if want, ok := changed[p]; ok {
			b.State = want
		}
		if a != b {
			diffs = append(diffs, fmt.Sprintf("%s: %+v, want %+v", p, a, b))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, p+": new")
		}
	}
	return diffs
}

// collect returns a Report function and the outcomes it collects.
func collectApply() (*[]Outcome, func(Outcome)) {
	var out []Outcome
	return &out, func(o Outcome) { out = append(out, o) }
}

func mkState(mode fs.FileMode, uid, gid uint32) State { return State{Mode: mode, UID: uid, GID: gid} }

// The plain changes: each kind of action leaves exactly its target, reported in plan order.
func TestApply(t *testing.T) {
	diskRequireRoot(t)
	tests := []struct {
		name     string
		dir      bool
		from, to State
	}{
		{"file chmod", false, mkState(0o666, 1000, 1000), mkState(0o644, 1000, 1000)},
		{"dir chmod", true, mkState(0o777, 1000, 1000), mkState(0o755, 1000, 1000)},
		{"file chown and chmod", false, mkState(0o666, 1000, 1000), mkState(0o640, 0, 33)},
		{"dir chown only", true, mkState(0o750, 1000, 1000), mkState(0o750, 0, 33)},
		{"setuid file keeps setuid after chown", false, mkState(fs.ModeSetuid|0o755, 0, 0), mkState(fs.ModeSetuid|0o755, 1000, 1000)},
		{"setgid file gains owner and loses world write", false, mkState(fs.ModeSetgid|0o777, 0, 0), mkState(fs.ModeSetgid|0o755, 1000, 50)},
		{"setgid dir chown", true, mkState(fs.ModeSetgid|0o775, 1000, 1000), mkState(fs.ModeSetgid|0o775, 1000, 33)},
		{"sticky dir chmod", true, mkState(0o777, 0, 0), mkState(fs.ModeSticky|0o777, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := diskTempDir(t)
			root := filepath.Join(base, "site")
			diskMkdir(t, root, mkState(0o755, 0, 0))
			p := filepath.Join(root, "entry")
			if tt.dir {
				diskMkdir(t, p, tt.from)
			} else {
				diskWrite(t, p, tt.from)
			}
			other := filepath.Join(root, "other")
			diskWrite(t, other, mkState(0o666, 1000, 1000))
			plan := &Plan{
				Roots: []Root{diskRoot(t, root)},
				Actions: []Action{
					diskAction(t, root, p, tt.to),
					diskAction(t, root, other, mkState(0o644, 1000, 1000)),
				},
			}
			before := diskTree(t, base)
			got, report := collectApply()
			sum := Apply(plan, Options{Report: report})

			if sum != (Summary{Applied: 2}) {
				t.Errorf("summary %+v, want 2 applied", sum)
			}
			if len(*got) != 2 {
				t.Fatalf("%d outcomes, want one per action", len(*got))
			}
			for i, o := range *got {
				if o.Action != &plan.Actions[i] || o.Status != Applied || o.Reason != "" {
					t.Errorf("outcome %d: %+v, want action %d applied", i, o, i)
				}
			}
			if diffs := diskTreeDiff(before, diskTree(t, base), map[string]State{p: tt.to, other: mkState(0o644, 1000, 1000)}); diffs != nil {
				t.Errorf("disk after apply:\n%s", strings.Join(diffs, "\n"))
			}
		})
	}
}

// attackTree is a root below a home directory its ancestor, with planned entries, next to a
// directory outside that an attacker would like webperm to change.
type attackTree struct {
	base, home, root, outside string
	secret, secretDir         string // outside: root's 0600 file and 0700 directory
	file, dir, sub, subFile   string // planned, below root
}

func newAttackTree(t *testing.T) *attackTree {
	t.Helper()
	base := diskTempDir(t)
	at := &attackTree{base: base, home: filepath.Join(base, "home"), outside: filepath.Join(base, "outside")}
	at.root = filepath.Join(at.home, "site")
	at.secret = filepath.Join(at.outside, "shadow")
	at.secretDir = filepath.Join(at.outside, "ssh")
	at.file = filepath.Join(at.root, "index.php")
	at.dir = filepath.Join(at.root, "uploads")
	at.sub = filepath.Join(at.root, "sub")
	at.subFile = filepath.Join(at.sub, "config.php")

	diskMkdir(t, at.outside, mkState(0o755, 0, 0))
	diskWrite(t, at.secret, mkState(0o600, 0, 0))
	diskMkdir(t, at.secretDir, mkState(0o700, 0, 0))
	// What a symlink on the way would lead the planned sub/config.php to.
	diskWrite(t, filepath.Join(at.outside, "config.php"), mkState(0o600, 0, 0))
	diskMkdir(t, at.home, mkState(0o700, 1000, 1000))
	diskMkdir(t, at.root, mkState(0o755, 1000, 1000))
	diskWrite(t, at.file, mkState(0o644, 1000, 1000))
	diskMkdir(t, at.dir, mkState(0o777, 1000, 1000))
	diskMkdir(t, at.sub, mkState(0o755, 1000, 1000))
	diskWrite(t, at.subFile, mkState(0o644, 1000, 1000))
	return at
}

// Targets change owner and mode both, so that anything followed would show either.
var (
	attackFileTarget = mkState(0o640, 1000, 33)
	attackDirTarget  = mkState(fs.ModeSetgid|0o775, 1000, 33)
	attackHomeTarget = mkState(0o711, 1000, 1000)
)

func (at *attackTree) plan(t *testing.T) *Plan {
	t.Helper()
	home := diskAction(t, at.root, at.home, attackHomeTarget)
	home.Ancestor = true
	return &Plan{
		Roots: []Root{diskRoot(t, at.root)},
		Actions: []Action{
			home,
			diskAction(t, at.root, at.file, attackFileTarget),
			diskAction(t, at.root, at.dir, attackDirTarget),
			diskAction(t, at.root, at.subFile, attackFileTarget),
		},
	}
}

// outcomeWant is what one action's outcome must be: its status and a part of its reason.
type outcomeWant struct {
	status Status
	reason string
}

var wantApplied = outcomeWant{Applied, ""}

// Between plan and apply an attacker who can write in the root swaps what was planned for
// symlinks, hard links and other files. Apply must change nothing outside the root, nothing that
// is not the inode the audit saw, and say why it skipped each; everything else is still fixed.
func TestApplyAttacks(t *testing.T) {
	diskRequireRoot(t)
	tests := []attackCase{
		{
			name: "file replaced by a symlink to a file outside",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.file)
				diskSymlink(t, at.secret, at.file)
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "is a symlink now: webperm never changes anything through a symlink"}},
		},
		{
			name: "directory replaced by a symlink to a directory outside",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.dir)
				diskSymlink(t, at.secretDir, at.dir)
			},
			want: map[string]outcomeWant{"uploads": {Skipped, "is a symlink now"}},
		},
		{
			name: "file replaced by a relative symlink",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.file)
				diskSymlink(t, "../../outside/shadow", at.file)
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "symlink"}},
		},
		{
			name: "symlink on the way: the directory above a planned file now leads outside",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.sub)
				diskSymlink(t, at.outside, at.sub)
			},
			want: map[string]outcomeWant{"config.php": {Skipped, reasonSymlinkOnWay}},
		},
		{
			name: "file replaced by another regular file with the same mode and owner",
			attack: func(t *testing.T, at *attackTree) {
				// Renamed over it, so the new file cannot reuse the old one's inode number, as a
				// file made after the old is removed may.
				diskWrite(t, at.file+".new", mkState(0o644, 1000, 1000))
				diskRename(t, at.file+".new", at.file)
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "changed since audit: another file now has this name"}},
		},
		{
			name: "directory replaced by a file",
			attack: func(t *testing.T, at *attackTree) {
				diskWrite(t, at.dir+".new", mkState(0o777, 1000, 1000))
				diskRemove(t, at.dir)
				diskRename(t, at.dir+".new", at.dir)
			},
			want: map[string]outcomeWant{"uploads": {Skipped, "changed since audit: a file now has this name, not a directory"}},
		},
		{
			name: "hard link to the planned file from outside the root",
			attack: func(t *testing.T, at *attackTree) {
				if err := os.Link(at.file, filepath.Join(at.outside, "link")); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "has 2 hard links: a change would reach every name, some perhaps outside the root"}},
		},
		{
			name: "file replaced by a fifo",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.file)
				if err := unix.Mkfifo(at.file, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "is a fifo now: webperm changes only files and directories"}},
		},
		{
			name: "a planned fifo",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.file)
				if err := unix.Mkfifo(at.file, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			editPlan: func(at *attackTree, p *Plan) {
				// The plan names the fifo itself, as only a bug could.
				p.Actions[1].Type = walk.TypeFIFO
			},
			want: map[string]outcomeWant{"index.php": {Failed, "the plan asks to change a fifo: webperm changes only files and directories"}},
		},
		{
			name: "mode changed since audit",
			attack: func(t *testing.T, at *attackTree) {
				diskSet(t, at.file, mkState(0o600, 1000, 1000))
			},
			want: map[string]outcomeWant{"index.php": {Skipped, "changed since audit: mode 0644 is now 0600"}},
		},
		{
			name: "owner changed since audit",
			attack: func(t *testing.T, at *attackTree) {
				diskSet(t, at.dir, mkState(0o777, 0, 0))
			},
			want: map[string]outcomeWant{"uploads": {Skipped, "changed since audit: owner 1000:1000 is now 0:0"}},
		},
		{
			name: "planned file gone",
			attack: func(t *testing.T, at *attackTree) {
				diskRemove(t, at.subFile)
			},
			want: map[string]outcomeWant{"config.php": {Skipped, "it no longer exists"}},
		},
		{
			name: "root replaced by a symlink to outside",
			attack: func(t *testing.T, at *attackTree) {
				diskRename(t, at.root, at.root+".old")
				diskSymlink(t, at.outside, at.root)
			},
			want: map[string]outcomeWant{
				"home":       {Skipped, "the root " + "ROOT" + " is not the directory audited: it is a symlink now"},
				"index.php":  {Skipped, "is not the directory audited: it is a symlink now"},
				"uploads":    {Skipped, "is not the directory audited: it is a symlink now"},
				"config.php": {Skipped, "is not the directory audited: it is a symlink now"},
			},
		},
		{
			name: "root replaced by another directory with the same entries",
			attack: func(t *testing.T, at *attackTree) {
				diskRename(t, at.root, at.root+".old")
				diskMkdir(t, at.root, mkState(0o755, 1000, 1000))
				diskWrite(t, at.file, mkState(0o644, 1000, 1000))
			},
			want: map[string]outcomeWant{
				"home":       {Skipped, "is not the directory audited: another directory now has this name"},
				"index.php":  {Skipped, "is not the directory audited: another directory now has this name"},
				"uploads":    {Skipped, "is not the directory audited"},
				"config.php": {Skipped, "is not the directory audited"},
			},
		},
		{
			name: "ancestor replaced by a symlink",
			attack: func(t *testing.T, at *attackTree) {
				// The root stays reachable, through the symlink that now stands above it.
				diskRename(t, at.home, filepath.Join(at.base, "real-home"))
				diskSymlink(t, "real-home", at.home)
			},
			want: map[string]outcomeWant{
				"home":       {Skipped, "is not the directory audited: " + reasonSymlinkOnWay},
				"index.php":  {Skipped, "is not the directory audited: " + reasonSymlinkOnWay},
				"uploads":    {Skipped, "is not the directory audited"},
				"config.php": {Skipped, "is not the directory audited"},
			},
		},
		{
			name:  "ancestor without --include-ancestors",
			noAnc: true,
			want:  map[string]outcomeWant{"home": {Skipped, reasonAncestor}},
		},
		{
			name: "plan names a file outside its root",
			editPlan: func(at *attackTree, p *Plan) {
				a := p.Actions[1]
				a.Path = at.secret
				p.Actions[1] = a
			},
			want: map[string]outcomeWant{"index.php": {Failed, "lies outside its root " + "ROOT" + ": refused, and never opened"}},
		},
		{
			name: "plan names a path with ..",
			editPlan: func(at *attackTree, p *Plan) {
				p.Actions[1].Path = at.root + "/../../outside/shadow"
			},
			want: map[string]outcomeWant{"index.php": {Failed, "is not a clean absolute path: refused, and never opened"}},
		},
		{
			name: "plan names an ancestor that is not above its root",
			editPlan: func(at *attackTree, p *Plan) {
				p.Actions[0].Path = at.secretDir
			},
			want: map[string]outcomeWant{"home": {Failed, "is marked an ancestor but does not lie above its root"}},
		},
		{
			name: "plan names a root it does not list",
			editPlan: func(at *attackTree, p *Plan) {
				p.Actions[2].Root = at.outside
			},
			want: map[string]outcomeWant{"uploads": {Failed, "its root " + "OUTSIDE" + " is not among the plan's roots"}},
		},
	}
	for _, form := range planForms {
		for _, tt := range tests {
			t.Run(form+"/"+tt.name, func(t *testing.T) { testApplyAttack(t, &tt, form) })
		}
	}
}

// attackCase is an attack between plan and apply, and what apply must make of it.
type attackCase struct {
	name     string
	attack   func(t *testing.T, at *attackTree)
	editPlan func(at *attackTree, p *Plan)
	noAnc    bool                   // apply without IncludeAncestors
	want     map[string]outcomeWant // by base name; every other action is applied
}

// testApplyAttack mounts tt on a fresh attackTree between planning it and applying the plan,
// which reaches apply in form.
func testApplyAttack(t *testing.T, tt *attackCase, form string) {
	at := newAttackTree(t)
	plan := inForm(t, form, at.plan(t))
	var names []string // each action's, before the plan is edited
	for _, a := range plan.Actions {
		names = append(names, filepath.Base(a.Path))
	}
	if tt.editPlan != nil {
		tt.editPlan(at, plan)
	}
	if tt.attack != nil {
		tt.attack(t, at)
	}
	journalPath := filepath.Join(diskTempDir(t), "journal")
	j, err := CreateJournal(journalPath, JournalHeader{Version: "test", Roots: plan.Roots})
	if err != nil {
		t.Fatal(err)
	}
	before := diskTree(t, at.base)
	got, report := collectApply()
	Apply(plan, Options{IncludeAncestors: !tt.noAnc, Journal: j, Report: report})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	if len(*got) != len(plan.Actions) {
		t.Fatalf("%d outcomes for %d actions", len(*got), len(plan.Actions))
	}
	changed := map[string]State{}
	var journaled []string
	for i, o := range *got {
		a := &plan.Actions[i]
		if o.Action != a {
			t.Errorf("outcome %d is for %s, want %s: reports come in plan order", i, o.Action.Path, a.Path)
		}
		want, ok := tt.want[names[i]]
		if !ok {
			want = wantApplied
		}
		want.reason = strings.ReplaceAll(strings.ReplaceAll(want.reason, "ROOT", at.root), "OUTSIDE", at.outside)
		if o.Status != want.status || !strings.Contains(o.Reason, want.reason) || (want.status == Applied) != (o.Reason == "") {
			t.Errorf("%s: %s %q, want %s %q", a.Path, o.Status, o.Reason, want.status, want.reason)
		}
		if o.Status == Applied {
			changed[a.Path] = a.Target
			journaled = append(journaled, a.Path)
		}
	}
	// Nothing outside changed, and inside only what was applied.
	if diffs := diskTreeDiff(before, diskTree(t, at.base), changed); diffs != nil {
		t.Errorf("disk after apply:\n%s", strings.Join(diffs, "\n"))
	}
	// The journal holds exactly the changes made.
	f, err := os.Open(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, entries, err := ReadJournal(journalPath, f)
	if err != nil {
		t.Fatal(err)
	}
	var got2 []string
	for _, e := range entries {
		got2 = append(got2, e.Path)
	}
	if strings.Join(got2, "\n") != strings.Join(journaled, "\n") {
		t.Errorf("journal holds %q, want %q", got2, journaled)
	}
}

// On a kernel without fchmodat2 the mode is set through /proc/self/fd: it must reach the inode
// the descriptor holds, and nothing else, not even what a symlink at the same name would reach.
func TestApplyChmodFallback(t *testing.T) {
	diskRequireRoot(t)
	for _, errno := range []error{unix.EOPNOTSUPP, unix.ENOSYS} {
		t.Run(errno.Error(), func(t *testing.T) {
			at := newAttackTree(t)
			plan := at.plan(t)
			// A symlink to the secret, unplanned, beside what is.
			diskSymlink(t, at.secret, filepath.Join(at.root, "link"))
			var fchmodat, chmods []string
			diskStub(t, &sysFchmodat, func(fd int, path string, mode uint32, flags int) error {
				fchmodat = append(fchmodat, fmt.Sprintf("%d %q %o %#x", fd, path, mode, flags))
				return errno
			})
			diskStub(t, &sysChmod, func(path string, mode uint32) error {
				chmods = append(chmods, path)
				return unix.Chmod(path, mode)
			})
			before := diskTree(t, at.base)
			got, report := collectApply()
			sum := Apply(plan, Options{IncludeAncestors: true, Report: report})

			if sum != (Summary{Applied: 4}) {
				t.Errorf("summary %+v, want all 4 applied: %+v", sum, *got)
			}
			changed := map[string]State{}
			for _, a := range plan.Actions {
				changed[a.Path] = a.Target
			}
			if diffs := diskTreeDiff(before, diskTree(t, at.base), changed); diffs != nil {
				t.Errorf("disk after apply:\n%s", strings.Join(diffs, "\n"))
			}
			if len(fchmodat) != 4 || len(chmods) != 4 {
				t.Fatalf("fchmodat called as %q, chmod as %q: want each once per action", fchmodat, chmods)
			}
			for i := range chmods {
				if !strings.HasSuffix(fchmodat[i], fmt.Sprintf(`"" %o %#x`, policy.UnixMode(plan.Actions[i].Target.Mode), unix.AT_EMPTY_PATH)) {
					t.Errorf("fchmodat called as %s, want the descriptor with AT_EMPTY_PATH", fchmodat[i])
				}
				if !regexp.MustCompile(`^/proc/self/fd/[0-9]+$`).MatchString(chmods[i]) {
					t.Errorf("chmod called on %q, want /proc/self/fd/N", chmods[i])
				}
			}
		})
	}
}

// diskStub replaces a system call for one test.
func diskStub[F any](t *testing.T, v *F, f F) {
	t.Helper()
	old := *v
	*v = f
	t.Cleanup(func() { *v = old })
}

// A failing call fails that action alone, says what it left, and the run goes on.
func TestApplyFailures(t *testing.T) {
	diskRequireRoot(t)
	eperm := func(int, string, int, int, int) error { return unix.EPERM }
	eio := func(int, string, uint32, int) error { return unix.EIO }
	tests := []struct {
		name string
		stub func(t *testing.T)
		want map[string]outcomeWant
		// halfChanged: what fails is left with its new owner and its old mode; otherwise as it was.
		halfChanged bool
	}{
		{
			name: "chown fails",
			stub: func(t *testing.T) { diskStub(t, &sysFchownat, eperm) },
			want: map[string]outcomeWant{
				"index.php":  {Failed, "cannot change its owner to 1000:33: operation not permitted; nothing was changed"},
				"uploads":    {Failed, "cannot change its owner to 1000:33"},
				"config.php": {Failed, "cannot change its owner to 1000:33"},
			},
		},
		{
			name: "chmod fails",
			stub: func(t *testing.T) { diskStub(t, &sysFchmodat, eio) },
			want: map[string]outcomeWant{
				"home": {Failed, "cannot change its mode to 0711: input/output error; nothing was changed"},
				// The owner is changed, the mode cannot be: the journal has the entry, and undo
				// knows this half state.
				"index.php":  {Failed, "changed its owner to 1000:33 but cannot change its mode to 0640: input/output error; it is left half changed"},
				"uploads":    {Failed, "it is left half changed"},
				"config.php": {Failed, "it is left half changed"},
			},
			halfChanged: true,
		},
		{
			name: "chmod that changes nothing is caught",
			stub: func(t *testing.T) {
				diskStub(t, &sysFchmodat, func(int, string, uint32, int) error { return nil })
			},
			want: map[string]outcomeWant{
				"home":      {Failed, "after the change it has mode 0700, owner 1000:1000, not mode 0711, owner 1000:1000"},
				"index.php": {Failed, "after the change it has mode 0644, owner 1000:33, not mode 0640, owner 1000:33"},
				"uploads":   {Failed, "after the change"}, "config.php": {Failed, "after the change"},
			},
			halfChanged: true,
		},
		{
			name: "openat2 missing",
			stub: func(t *testing.T) {
				diskStub(t, &sysOpenat2, func(int, string, *unix.OpenHow) (int, error) { return -1, unix.ENOSYS })
			},
			want: map[string]outcomeWant{
				"home":       {Failed, "cannot open the root ROOT: function not implemented"},
				"index.php":  {Failed, "cannot open the root"},
				"uploads":    {Failed, "cannot open the root"},
				"config.php": {Failed, "cannot open the root"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := newAttackTree(t)
			plan := at.plan(t)
			journalPath := filepath.Join(diskTempDir(t), "journal")
			j, err := CreateJournal(journalPath, JournalHeader{Version: "test", Roots: plan.Roots})
			if err != nil {
				t.Fatal(err)
			}
			before := diskTree(t, at.base)
			tt.stub(t)
			got, report := collectApply()
			Apply(plan, Options{IncludeAncestors: true, Journal: j, Report: report})
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			changed := map[string]State{}
			for i, o := range *got {
				a := plan.Actions[i]
				want, ok := tt.want[filepath.Base(a.Path)]
				if !ok {
					want = wantApplied
				}
				want.reason = strings.ReplaceAll(want.reason, "ROOT", at.root)
				if o.Status != want.status || !strings.Contains(o.Reason, want.reason) {
					t.Errorf("%s: %s %q, want %s %q", a.Path, o.Status, o.Reason, want.status, want.reason)
				}
				switch {
				case o.Status == Applied:
					changed[a.Path] = a.Target
				case tt.halfChanged:
					changed[a.Path] = mkState(a.Current.Mode, a.Target.UID, a.Target.GID)
				}
			}
			if diffs := diskTreeDiff(before, diskTree(t, at.base), changed); diffs != nil {
				t.Errorf("disk after apply:\n%s", strings.Join(diffs, "\n"))
			}

			// Whatever the failure left, undo puts back.
			sysFchownat, sysFchmodat, sysOpenat2 = unix.Fchownat, unix.Fchmodat, unix.Openat2
			h, entries := diskReadJournal(t, journalPath)
			var undone []UndoOutcome
			Undo(h, entries, func(o UndoOutcome) { undone = append(undone, o) })
			for _, o := range undone {
				if o.Status != Applied {
					t.Errorf("undo %s: %s %q", o.Entry.Path, o.Status, o.Reason)
				}
			}
			if diffs := diskTreeDiff(before, diskTree(t, at.base), nil); diffs != nil {
				t.Errorf("disk after undo:\n%s", strings.Join(diffs, "\n"))
			}
		})
	}
}

// A journal that cannot be written stops every change: none is made that undo could not find.
func TestApplyJournalWriteFails(t *testing.T) {
	diskRequireRoot(t)
	at := newAttackTree(t)
	plan := at.plan(t)
	journalPath := filepath.Join(diskTempDir(t), "journal")
	j, err := CreateJournal(journalPath, JournalHeader{Version: "test", Roots: plan.Roots})
	if err != nil {
		t.Fatal(err)
	}
	// Swap the file for a read-only descriptor of it, as a full or failing disk would fail writes.
	ro, err := os.Open(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	j.f.Close()
	j.f = ro
	defer j.Close()
	before := diskTree(t, at.base)
	got, report := collectApply()
	sum := Apply(plan, Options{IncludeAncestors: true, Journal: j, Report: report})

	if sum != (Summary{Failed: 4}) {
		t.Errorf("summary %+v, want all 4 failed", sum)
	}
	want := fmt.Sprintf("cannot write to journal %s: bad file descriptor; nothing was changed", journalPath)
	for _, o := range *got {
		if o.Status != Failed || o.Reason != want {
			t.Errorf("%s: %s %q, want failed %q", o.Action.Path, o.Status, o.Reason, want)
		}
	}
	if diffs := diskTreeDiff(before, diskTree(t, at.base), nil); diffs != nil {
		t.Errorf("disk after apply:\n%s", strings.Join(diffs, "\n"))
	}
	if h, entries := diskReadJournal(t, journalPath); len(entries) != 0 || len(h.Roots) != 1 {
		t.Errorf("journal holds %d entries and %d roots, want the header alone", len(entries), len(h.Roots))
	}
}

// A journal whose header lists the root otherwise than the plan would let undo trust the wrong
// directory: apply makes no change it cannot journal truly.
func TestApplyJournalOtherRoot(t *testing.T) {
	diskRequireRoot(t)
	at := newAttackTree(t)
	plan := at.plan(t)
	other := plan.Roots[0]
	other.Ino++
	j, err := CreateJournal(filepath.Join(diskTempDir(t), "journal"), JournalHeader{Version: "test", Roots: []Root{other}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	before := diskTree(t, at.base)
	got, report := collectApply()
	Apply(plan, Options{IncludeAncestors: true, Journal: j, Report: report})
	want := fmt.Sprintf("the journal does not list its root %s as the plan does; nothing was changed", at.root)
	for _, o := range *got {
		if o.Status != Failed || o.Reason != want {
			t.Errorf("%s: %s %q, want failed %q", o.Action.Path, o.Status, o.Reason, want)
		}
	}
	if diffs := diskTreeDiff(before, diskTree(t, at.base), nil); diffs != nil {
		t.Errorf("disk after apply:\n%s", strings.Join(diffs, "\n"))
	}
}

func diskReadJournal(t *testing.T, name string) (JournalHeader, []JournalEntry) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, entries, err := ReadJournal(name, f)
	if err != nil {
		t.Fatal(err)
	}
	return h, entries
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{Applied: "applied", Skipped: "skipped", Failed: "failed", 7: "status(7)"} {
		if got := s.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", s, got, want)
		}
	}
}

// An ancestor swapped for a symlink while apply runs, after the root is open: the next ancestor
// below it is not reached through the symlink, and the root, held open since, is still the
// directory audited, so what lies below it is still fixed.
func TestApplyAncestorSwappedDuringRun(t *testing.T) {
	for _, form := range planForms {
		t.Run(form, func(t *testing.T) {
			diskRequireRoot(t)
			base := diskTempDir(t)
			home, outside := filepath.Join(base, "home"), filepath.Join(base, "outside")
			user := filepath.Join(home, "user")
			root := filepath.Join(user, "site")
			file := filepath.Join(root, "index.php")
			diskMkdir(t, outside, mkState(0o755, 0, 0))
			diskMkdir(t, filepath.Join(outside, "user"), mkState(0o700, 0, 0))
			diskMkdir(t, home, mkState(0o750, 0, 0))
			diskMkdir(t, user, mkState(0o700, 1000, 1000))
			diskMkdir(t, root, mkState(0o755, 1000, 1000))
			diskWrite(t, file, mkState(0o666, 1000, 1000))
			plan := &Plan{
				Roots: []Root{diskRoot(t, root)},
				Actions: []Action{
					diskAction(t, root, home, mkState(0o751, 0, 0)),
					diskAction(t, root, user, mkState(0o711, 1000, 1000)),
					diskAction(t, root, file, mkState(0o644, 1000, 1000)),
				},
			}
			plan.Actions[0].Ancestor, plan.Actions[1].Ancestor = true, true
			plan = inForm(t, form, plan)
			realOpenat2 := sysOpenat2
			diskStub(t, &sysOpenat2, func(dirfd int, path string, how *unix.OpenHow) (int, error) {
				if path == user {
					diskRename(t, home, home+".real")
					diskSymlink(t, outside, home)
				}
				return realOpenat2(dirfd, path, how)
			})
			before := diskTree(t, base)
			got, report := collectApply()
			Apply(plan, Options{IncludeAncestors: true, Report: report})

			want := []outcomeWant{wantApplied, {Skipped, reasonSymlinkOnWay}, wantApplied}
			for i, o := range *got {
				if o.Status != want[i].status || o.Reason != want[i].reason {
					t.Errorf("%s: %s %q, want %s %q", o.Action.Path, o.Status, o.Reason, want[i].status, want[i].reason)
				}
			}
			// The tree now lies below home.real; outside/user is untouched.
			after := diskTree(t, base)
			moved := map[string]diskEntry{}
			for p, e := range before {
				if p == home || strings.HasPrefix(p, home+"/") {
					p = home + ".real" + strings.TrimPrefix(p, home)
				}
				moved[p] = e
			}
			moved[home] = after[home] // the symlink
			changed := map[string]State{home + ".real": mkState(0o751, 0, 0), home + ".real/user/site/index.php": mkState(0o644, 1000, 1000)}
			if diffs := diskTreeDiff(moved, after, changed); diffs != nil {
				t.Errorf("disk after apply:\n%s", strings.Join(diffs, "\n"))
			}
		})
	}
}

// swapRounds is how many times at least TestApplyRacesASwapper applies a plan, in each form,
// while the swapper runs.
const swapRounds = 200

// A site user who swaps a planned directory for a symlink to a tree outside, and back, as fast as
// it can while apply runs, never gets a change made outside, though the files there have the very
// mode and owner planned: whichever way each open falls, an entry is changed only where it is the
// inode audited, reached without a symlink.
func TestApplyRacesASwapper(t *testing.T) {
	diskRequireRoot(t)
	for _, form := range planForms {
		t.Run(form, func(t *testing.T) {
			at := newAttackTree(t)
			plan := &Plan{Roots: []Root{diskRoot(t, at.root)}}
			var fds []int // the planned files, held to put their mode back each round
			for _, name := range []string{"a.php", "b.php", "c.php"} {
				p := filepath.Join(at.dir, name)
				diskWrite(t, p, mkState(0o666, 1000, 1000))
				diskWrite(t, filepath.Join(at.secretDir, name), mkState(0o666, 1000, 1000))
				plan.Actions = append(plan.Actions, diskAction(t, at.root, p, mkState(0o644, 1000, 1000)))
				fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer unix.Close(fd)
				fds = append(fds, fd)
			}
			plan = inForm(t, form, plan)
			outside := diskTree(t, at.outside)
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
					}
					// Errors are expected and harmless: each step undoes the one before.
					_ = os.Rename(at.dir, at.dir+".real")
					_ = os.Symlink(at.secretDir, at.dir)
					_ = os.Remove(at.dir)
					_ = os.Rename(at.dir+".real", at.dir)
					runtime.Gosched() // a while as audited, so that some rounds apply
				}
			}()
			// swapRounds at least; more, up to fifty times as many, while the scheduler has kept
			// the race from going both ways.
			var applied, skipped, rounds int
			for ; rounds < swapRounds || (applied == 0 || skipped == 0) && rounds < 50*swapRounds; rounds++ {
				runtime.Gosched()
				for _, fd := range fds {
					if err := unix.Fchmod(fd, 0o666); err != nil {
						t.Fatal(err)
					}
				}
				sum := Apply(plan, Options{})
				applied, skipped = applied+sum.Applied, skipped+sum.Skipped
			}
			close(stop)
			<-done
			if diffs := diskTreeDiff(outside, diskTree(t, at.outside), nil); diffs != nil {
				t.Fatalf("outside changed while the swapper ran:\n%s", strings.Join(diffs, "\n"))
			}
			t.Logf("%d rounds: %d changes applied, %d skipped", rounds, applied, skipped)
			if applied == 0 || skipped == 0 {
				t.Errorf("%d applied, %d skipped: the race did not go both ways", applied, skipped)
			}
		})
	}
}
