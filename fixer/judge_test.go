package fixer

import (
	"strings"
	"testing"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// A saved plan's action is refused when its target grants a set-id or sticky bit, when its
// entry was not judged, or when the judging audit found a rule at medium or above that the
// entry does not break now; below medium, or found nothing, it stands.
func TestRefusals(t *testing.T) {
	file := func(path string, cur, target State) Action {
		return Action{Path: path, Root: "/srv/site", Type: walk.TypeFile, Current: cur, Target: target}
	}
	found := func(rule policy.RuleID, sev policy.Severity) audit.Finding {
		return audit.Finding{Rule: rule, Severity: sev, Message: "why"}
	}
	p := &Plan{Actions: []Action{
		file("/srv/site/ok", State{Mode: 0o666}, State{Mode: 0o644}),
		file("/srv/site/low", State{Mode: 0o666}, State{Mode: 0o644}),
		file("/srv/site/medium", State{Mode: 0o666}, State{Mode: 0o664}),
		file("/srv/site/setuid", State{Mode: 0o755}, State{Mode: policy.FromUnix(0o4755)}),
		file("/srv/site/setgid-kept", State{Mode: policy.FromUnix(0o2775)}, State{Mode: policy.FromUnix(0o2755)}),
		file("/srv/site/sticky", State{Mode: 0o777}, State{Mode: policy.FromUnix(0o1755)}),
		file("/srv/site/unjudged", State{Mode: 0o666}, State{Mode: 0o644}),
		file("/srv/site/setuid-chowned", State{Mode: policy.FromUnix(0o4755), UID: 1000}, State{Mode: policy.FromUnix(0o4755)}),
		file("/srv/site/setgid-chgrped", State{Mode: policy.FromUnix(0o2755), GID: 1000}, State{Mode: policy.FromUnix(0o2755), GID: 33}),
		file("/srv/site/setuid-chgrped", State{Mode: policy.FromUnix(0o4755)}, State{Mode: policy.FromUnix(0o4750), GID: 33}),
	}}
	judged := map[string][]audit.Finding{
		"/srv/site/ok":             {},
		"/srv/site/low":            {found(policy.DanglingSymlink, policy.Low)},
		"/srv/site/medium":         {found(policy.ModeTooOpen, policy.Medium)},
		"/srv/site/setuid":         {},
		"/srv/site/setgid-kept":    {},
		"/srv/site/sticky":         {},
		"/srv/site/setuid-chowned": {},
		"/srv/site/setgid-chgrped": {},
		"/srv/site/setuid-chgrped": {},
	}
	want := map[string]string{
		"/srv/site/medium":         "would be reported: mode-too-open (medium): why; refused",
		"/srv/site/setuid":         "gives it the setuid bit it does not have",
		"/srv/site/sticky":         "gives it the sticky bit it does not have",
		"/srv/site/unjudged":       "cannot be judged",
		"/srv/site/setuid-chowned": "keeps its setuid bit through the chown",
		"/srv/site/setgid-chgrped": "keeps its setgid bit through the chown",
	}
	got := Refusals(p, judged)
	for path, w := range want {
		if !strings.Contains(got[path], w) {
			t.Errorf("%s: refusal %q, want %q", path, got[path], w)
		}
	}
	for path, why := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("%s refused (%s); want it to stand", path, why)
		}
	}
}

// A refused action changes nothing and fails, with its reason; the plan's other actions are made.
func TestApplyRefused(t *testing.T) {
	diskRequireRoot(t)
	root := diskTempDir(t)
	a, b := root+"/a.html", root+"/b.html"
	diskWrite(t, a, mkState(0o666, 0, 0))
	diskWrite(t, b, mkState(0o666, 0, 0))
	p := &Plan{Roots: []Root{diskRoot(t, root)}, Actions: []Action{
		diskAction(t, root, a, mkState(0o644, 0, 0)), diskAction(t, root, b, mkState(0o644, 0, 0)),
	}}
	outcomes, report := collectApply()
	sum := Apply(p, Options{Refused: map[string]string{a: "edited: refused"}, Report: report})
	if sum != (Summary{Applied: 1, Failed: 1}) {
		t.Fatalf("summary %+v, want one applied and one failed: %+v", sum, *outcomes)
	}
	if got := diskState(t, a); got.Mode != 0o666 {
		t.Errorf("refused a.html is %v now, want 0666", got.Mode)
	}
	if got := diskState(t, b); got.Mode != 0o644 {
		t.Errorf("b.html is %v, want 0644", got.Mode)
	}
	if o := (*outcomes)[0]; o.Status != Failed || o.Reason != "edited: refused" {
		t.Errorf("a.html: %v %q, want failed with the refusal", o.Status, o.Reason)
	}
}
