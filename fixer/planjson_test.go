package fixer

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

func samplePlan() *Plan {
	return &Plan{
		Version: "v1.2.3", Created: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), Policy: "wordpress",
		WebUser: testWebUser(),
		Settings: Settings{PolicyFile: "/etc/webperm/site.yaml", SysRoot: "/", SiteOwner: new(uint32(1000)), Writable: []string{"wp-content/uploads", "sites/*/files"}, Presets: []audit.RootPreset{
			{Root: "/var/www/site", Preset: "wordpress"}, {Root: "/srv/\xff odd", Preset: "cpanel+wordpress"}}},
		Roots: []Root{{Path: "/var/www/site", Dev: 2049, Ino: 12}, {Path: "/srv/\xff odd", Dev: 2049, Ino: 13}},
		Actions: []Action{
			{Path: "/var", Root: "/var/www/site", Ancestor: true, Type: walk.TypeDir, Dev: 2049, Ino: 2,
				Current: State{Mode: 0o700}, Target: State{Mode: 0o711}, Rules: []policy.RuleID{policy.WebUntraversable}},
			{Path: "/var/www/site/wp-config.php", Root: "/var/www/site", Type: walk.TypeFile, Dev: 2049, Ino: 99,
				Current: State{Mode: 0o644, UID: 1000, GID: 1000}, Target: State{Mode: 0o640, UID: 1000, GID: 33},
				Rules: []policy.RuleID{policy.SensitiveExposed}},
			{Path: "/srv/\xff odd/new\nline's", Root: "/srv/\xff odd", Type: walk.TypeFile, Dev: 2049, Ino: 100,
				Current: State{Mode: policy.FromUnix(0o4755)}, Target: State{Mode: 0o644}, Rules: []policy.RuleID{policy.ModeTooOpen, policy.SetuidSetgid}},
		},
	}
}

// A plan read back is the plan written: paths that are not UTF-8 included.
func TestPlanJSONRoundTrip(t *testing.T) {
	p := samplePlan()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON("plan.json", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Roots, p.Roots) || !reflect.DeepEqual(got.Actions, p.Actions) || !reflect.DeepEqual(got.Settings, p.Settings) {
		t.Errorf("read back\n%+v\n%+v\n%+v\nwant\n%+v\n%+v\n%+v", got.Roots, got.Actions, got.Settings, p.Roots, p.Actions, p.Settings)
	}
	if got.Version != p.Version || !got.Created.Equal(p.Created) || got.Policy != p.Policy || got.WebUser.Name != "www-data" {
		t.Errorf("header read back as %q %v %q %+v", got.Version, got.Created, got.Policy, got.WebUser)
	}
}

// A plan that is not exactly one webperm could have written is refused whole, naming where.
func TestReadJSONRefuses(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, samplePlan()); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"syntax", `"policy": "wordpress",`, `"policy": "wordpress"`, "plan.json:28:3: invalid character '\"' after object key:value pair"},
		{"cut short", good, good[:len(good)/2], "plan.json: ends before the plan does"},
		{"empty", good, "", "plan.json: ends before the plan does"},
		{"field twice", `"mode": "0640",`, `"mode": "0640", "mode": "0777",`, `plan.json: field "actions.target.mode" appears twice`},
		{"field in another case", `"policy": "wordpress",`, `"policy": "wordpress", "Actions": [],`, `plan.json: unknown field "Actions"`},
		{"mode in another case", `"mode": "0640",`, `"mode": "0640", "MODE": "0606",`, `plan.json: unknown field "actions.target.MODE"`},
		// A plan has no way to grant capabilities: an edited one asking for them is refused whole.
		{"capabilities in a target", `"mode": "0640",`, `"mode": "0640", "capabilities": "cap_setuid=ep",`, `unknown field "capabilities"`},
		{"chmod turned off", `"chmod": true`, `"chmod": false`, `plan.json: action 1 (/var): chown false and chmod false do not follow from current and target, which say false and true`},
		{"null", `"policy": "wordpress",`, `"policy": null,`, `plan.json: field "policy" is null`},
		{"unknown field", `"policy": "wordpress",`, `"policy": "wordpress", "extra": 1,`, `unknown field "extra"`},
		{"schema", PlanSchema, "webperm/plan/v0", `plan.json: schema "webperm/plan/v0": want "webperm/plan/v1"`},
		{"two documents", good, good + good, "plan.json: more than one JSON document"},
		{"relative path", `"path": "/var/www/site/wp-config.php"`, `"path": "var/www/site/wp-config.php"`, `plan.json: action 2 (var/www/site/wp-config.php): path "var/www/site/wp-config.php" is relative`},
		{"dot dot", `"path": "/var/www/site/wp-config.php"`, `"path": "/var/www/site/../../../etc/shadow"`, `is not clean`},
		{"outside its root", `"path": "/var/www/site/wp-config.php"`, `"path": "/etc/shadow"`, `plan.json: action 2 (/etc/shadow): path "/etc/shadow" is neither its root "/var/www/site" nor below it, and not marked "ancestor"`},
		{"ancestor below", `"path": "/var",`, `"path": "/var/www/site/x",`, `plan.json: action 1 (/var/www/site/x): ancestor "/var/www/site/x" does not lie above its root "/var/www/site"`},
		{"unknown root", `"root": "/var/www/site",
      "ancestor": false`, `"root": "/",
      "ancestor": false`, `root / is not among the plan's roots`},
		{"type", `"type": "file"`, `"type": "fifo"`, `plan.json: action 2 (/var/www/site/wp-config.php): type "fifo": webperm changes only files and directories`},
		{"bad type", `"type": "file"`, `"type": "blob"`, `unknown type "blob"`},
		{"mode", `"mode": "0640"`, `"mode": "640"`, `target: mode "640": want four octal digits`},
		{"rule", `"sensitive-exposed"`, `"sensitive-exposd"`, `unknown rule "sensitive-exposd"`},
		{"relative policy file", `"policy_file": "/etc/webperm/site.yaml"`, `"policy_file": "site.yaml"`, `plan.json: policy_file "site.yaml" is relative`},
		{"unknown preset", `"preset": "wordpress"`, `"preset": "wordpres"`, `plan.json: preset 1: "wordpres" is no preset webperm knows`},
		{"preset of another root", `"root": "/var/www/site",
      "preset"`, `"root": "/srv/www",
      "preset"`, `plan.json: preset 1: root /srv/www is not among the plan's roots`},
		{"nothing to do", `"mode": "0640",
        "uid": 1000,
        "gid": 33`, `"mode": "0644",
        "uid": 1000,
        "gid": 1000`, `target equals current: nothing to change`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the sample plan lacks %q:\n%s", tc.old, good)
			}
			_, err := ReadJSON("plan.json", strings.NewReader(strings.Replace(good, tc.old, tc.new, 1)))
			switch {
			case err == nil:
				t.Errorf("accepted; want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestReadJSONRefusesTwoActionsForOnePath(t *testing.T) {
	p := samplePlan()
	p.Actions = append(p.Actions, p.Actions[1])
	var buf bytes.Buffer
	if err := WriteJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	_, err := ReadJSON("plan.json", &buf)
	if want := "plan.json: action 4 (/var/www/site/wp-config.php): a second action for this path"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}
