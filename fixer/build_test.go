package fixer

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// Each entry with a fix is one action; what webperm will not change is left to a person with
// the reason; a directory above the root is an action marked as an ancestor.
func TestNewPlan(t *testing.T) {
	home := filepath.Join(fixture.TempDir(t), "home")
	mustMkdir(t, home, 0o700)
	root := filepath.Join(home, "site")
	mustMkdir(t, root, 0o755)
	mustWrite(t, filepath.Join(root, "index.html"), 0o666)
	mustWrite(t, filepath.Join(root, "linked.html"), 0o666)
	if err := os.Link(filepath.Join(root, "linked.html"), filepath.Join(home, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}

	p := planFor(t, root)
	if len(p.Roots) != 1 || p.Roots[0].Path != root || p.Roots[0].Ino == 0 {
		t.Errorf("roots %+v, want %s with its inode", p.Roots, root)
	}
	actions := map[string]*Action{}
	for i := range p.Actions {
		actions[p.Actions[i].Path] = &p.Actions[i]
	}
	if a := actions[home]; a == nil || !a.Ancestor || a.Root != root || a.Target.Mode != 0o711 {
		t.Errorf("home: %+v, want an ancestor action to 0711", a)
	}
	if a := actions[filepath.Join(root, "index.html")]; a == nil || a.Ancestor || a.Target.Mode != 0o644 || a.Ino == 0 || a.Current.Mode != 0o666 {
		t.Errorf("index.html: %+v, want 0666 to 0644 with its inode", a)
	}
	if len(p.Actions) != 2 {
		t.Errorf("%d actions, want 2: %+v", len(p.Actions), p.Actions)
	}
	manual := map[string]Manual{}
	for _, m := range p.Manual {
		manual[filepath.Base(m.Path)] = m
	}
	for name, want := range map[string]string{
		"linked.html": "it has 2 hard links",
		"pipe":        "a device, pipe or socket has no place in a web root",
		"out":         "a link out of the root is a choice",
	} {
		m, ok := manual[name]
		if !ok {
			t.Errorf("%s: not left for a person", name)
			continue
		}
		if !strings.Contains(m.Reason, want) || len(m.Findings) == 0 {
			t.Errorf("%s: reason %q with %d findings, want %q", name, m.Reason, len(m.Findings), want)
		}
	}
	if len(p.Manual) != 3 {
		t.Errorf("%d left to a person, want 3: %+v", len(p.Manual), p.Manual)
	}
}

// A chmod follows a chown of a file that keeps a setuid bit, which the chown clears.
func TestChmodAfterChown(t *testing.T) {
	for _, tc := range []struct {
		name         string
		a            Action
		chown, chmod bool
	}{
		{"mode only", Action{Type: walk.TypeFile, Current: State{Mode: 0o666}, Target: State{Mode: 0o644}}, false, true},
		{"owner only", Action{Type: walk.TypeFile, Current: State{Mode: 0o644, UID: 33}, Target: State{Mode: 0o644}}, true, false},
		{"owner of a setuid file", Action{Type: walk.TypeFile, Current: State{Mode: policy.FromUnix(0o4755), UID: 33}, Target: State{Mode: policy.FromUnix(0o4755)}}, true, true},
		{"owner of a setgid directory", Action{Type: walk.TypeDir, Current: State{Mode: policy.FromUnix(0o2755), UID: 33}, Target: State{Mode: policy.FromUnix(0o2755)}}, true, false},
	} {
		if tc.a.Chown() != tc.chown || tc.a.Chmod() != tc.chmod {
			t.Errorf("%s: chown %v chmod %v, want %v %v", tc.name, tc.a.Chown(), tc.a.Chmod(), tc.chown, tc.chmod)
		}
	}
}

// An info finding leaves a person nothing to decide: a plan lists it nowhere, with a fix the plan
// would not make (a packaged file) or without one (a link waiting for the installer).
func TestPlanLeavesInfoAlone(t *testing.T) {
	root := "/var/lib/app"
	info := func(rel string, typ walk.Type, rule policy.RuleID, fix *audit.Fix, pkg string) audit.Finding {
		e := walk.Entry{Path: filepath.Join(root, rel), Rel: rel, Type: typ, Mode: 0o755, OwnerKnown: true, Nlink: 1, Ino: 9}
		return audit.Finding{Rule: rule, Severity: policy.Info, Entry: e, Fix: fix, Package: pkg, PackageManager: audit.ManagerDpkg}
	}
	rep := &audit.Report{Roots: []string{root}, Accounts: testAccounts(), Findings: []audit.Finding{
		info("LocalSettings.php", walk.TypeSymlink, policy.DanglingSymlink, nil, ""),
		info("bin/run", walk.TypeFile, policy.ModeTooOpen, &audit.Fix{Mode: 0o644}, "app"),
	}}
	if plan := mustNew(t, rep); len(plan.Actions) != 0 || len(plan.Manual) != 0 {
		t.Errorf("actions %+v, manual %+v: want nothing for info findings a plan will not fix", plan.Actions, plan.Manual)
	}
}

// mustNew is New for a test's report, which holds its findings in memory.
func mustNew(t *testing.T, rep *audit.Report) *Plan {
	t.Helper()
	p, err := New(rep, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}
