package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
)

// testdata is the repository's fixture directory.
var testdata = filepath.Join("..", "..", "testdata")

// fixtureSystem is how one fixture manifest is audited.
type fixtureSystem struct {
	manifest string // below testdata
	// roots are the audited roots, relative to the system's root: the manifest is then a whole
	// system with its accounts in etc/ beside it. Without roots the manifest is one web root,
	// audited with the accounts of the system in accounts.
	roots    []string
	accounts string
	web, php string
}

// fixtureSystems lists every manifest in testdata; TestFixtureSystemsCoverTestdata keeps it so.
var fixtureSystems = []fixtureSystem{
	{manifest: "demo/site.manifest", accounts: "demo", web: "www-data"},
	{manifest: "demo/collapse.manifest", accounts: "demo", web: "www-data"},
	{manifest: "presets/wordpress/clean.manifest", roots: []string{"var/www/example.com"}, web: "www-data"},
	{manifest: "presets/wordpress/faults.manifest", roots: []string{"var/www/example.com"}, web: "www-data"},
	{manifest: "presets/wordpress/clean-fpm.manifest", roots: []string{"var/www/example.com"}, web: "www-data", php: "deploy"},
	{manifest: "presets/wordpress/faults-fpm.manifest", roots: []string{"var/www/example.com"}, web: "www-data", php: "deploy"},
	{manifest: "presets/drupal/clean.manifest", roots: []string{"var/www/drupal"}, web: "www-data"},
	{manifest: "presets/drupal/faults.manifest", roots: []string{"var/www/drupal"}, web: "www-data"},
	{manifest: "presets/laravel/clean.manifest", roots: []string{"var/www/app"}, web: "www-data"},
	{manifest: "presets/laravel/faults.manifest", roots: []string{"var/www/app"}, web: "www-data"},
	{manifest: "presets/magento/clean.manifest", roots: []string{"var/www/magento"}, web: "www-data"},
	{manifest: "presets/magento/faults.manifest", roots: []string{"var/www/magento"}, web: "www-data"},
	{manifest: "presets/joomla/clean.manifest", roots: []string{"var/www/joomla"}, web: "www-data"},
	{manifest: "presets/joomla/faults.manifest", roots: []string{"var/www/joomla"}, web: "www-data"},
	{manifest: "presets/phpmyadmin/clean.manifest", roots: []string{"var/www/phpmyadmin"}, web: "www-data"},
	{manifest: "presets/phpmyadmin/faults.manifest", roots: []string{"var/www/phpmyadmin"}, web: "www-data"},
	{manifest: "presets/mediawiki/clean.manifest", roots: []string{"var/www/wiki"}, web: "www-data"},
	{manifest: "presets/mediawiki/faults.manifest", roots: []string{"var/www/wiki"}, web: "www-data"},
	{manifest: "presets/dokuwiki/clean.manifest", roots: []string{"var/www/dokuwiki"}, web: "www-data"},
	{manifest: "presets/dokuwiki/faults.manifest", roots: []string{"var/www/dokuwiki"}, web: "www-data"},
	{manifest: "presets/roundcube/clean.manifest", roots: []string{"var/www/roundcube"}, web: "www-data"},
	{manifest: "presets/roundcube/faults.manifest", roots: []string{"var/www/roundcube"}, web: "www-data"},
	{manifest: "presets/nextcloud/clean.manifest", roots: []string{"var/www/nextcloud"}, web: "www-data"},
	{manifest: "presets/nextcloud/faults.manifest", roots: []string{"var/www/nextcloud"}, web: "www-data"},
	{manifest: "presets/debian/clean.manifest", roots: []string{"etc/phpmyadmin", "var/lib/phpmyadmin", "etc/mediawiki", "var/lib/mediawiki", "etc/dokuwiki", "var/lib/dokuwiki", "etc/roundcube", "var/lib/roundcube"}, web: "www-data"},
	{manifest: "presets/debian/faults.manifest", roots: []string{"etc/phpmyadmin", "var/lib/phpmyadmin", "etc/mediawiki", "var/lib/mediawiki", "etc/dokuwiki", "var/lib/dokuwiki", "etc/roundcube", "var/lib/roundcube"}, web: "www-data"},
	{manifest: "presets/fedora/clean.manifest", roots: []string{"usr/share/phpMyAdmin", "etc/phpMyAdmin", "var/lib/phpMyAdmin", "usr/share/roundcubemail", "etc/roundcubemail", "var/lib/roundcubemail"}, web: "apache"},
	{manifest: "presets/fedora/faults.manifest", roots: []string{"usr/share/phpMyAdmin", "etc/phpMyAdmin", "var/lib/phpMyAdmin", "usr/share/roundcubemail", "etc/roundcubemail", "var/lib/roundcubemail"}, web: "apache"},
	{manifest: "presets/cpanel/clean.manifest", roots: []string{"home/alice/public_html", "home/bob/public_html"}, web: "nobody"},
	{manifest: "presets/cpanel/faults.manifest", roots: []string{"home/alice/public_html", "home/bob/public_html"}, web: "nobody"},
	{manifest: "presets/plesk/clean.manifest", roots: []string{"var/www/vhosts/example.com/httpdocs", "var/www/vhosts/example.org/httpdocs"}, web: "www-data"},
	{manifest: "presets/plesk/faults.manifest", roots: []string{"var/www/vhosts/example.com/httpdocs", "var/www/vhosts/example.org/httpdocs"}, web: "www-data"},
	{manifest: "presets/cpanel+wordpress/clean.manifest", roots: []string{"home/alice/public_html"}, web: "nobody", php: "alice"},
	{manifest: "presets/cpanel+wordpress/faults.manifest", roots: []string{"home/alice/public_html"}, web: "nobody", php: "alice"},
}

func TestFixtureSystemsCoverTestdata(t *testing.T) {
	var found []string
	err := filepath.WalkDir(testdata, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".manifest") {
			rel, _ := filepath.Rel(testdata, p)
			found = append(found, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range found {
		if !slices.ContainsFunc(fixtureSystems, func(s fixtureSystem) bool { return s.manifest == m }) {
			t.Errorf("testdata/%s is not in fixtureSystems: say how it is audited, so the plan property covers it", m)
		}
	}
}

// materialise makes s's tree on the real file system and returns the system's root and the web
// roots to audit, both absolute.
func (s *fixtureSystem) materialise(t *testing.T) (sysroot string, roots []string) {
	t.Helper()
	if s.roots == nil {
		entries, err := fixture.Load(filepath.Join(testdata, s.manifest))
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join(testdata, s.accounts), []string{materialise(t, entries)}
	}
	sys := filepath.Join(fixture.TempDir(t), "sys")
	if err := fixture.MaterialiseSystem(sys, filepath.Join(testdata, s.manifest)); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.roots {
		roots = append(roots, filepath.Join(sys, r))
	}
	return sys, roots
}

func (s *fixtureSystem) flags(sysroot string) []string {
	args := []string{"--root", sysroot, "--web-user", s.web}
	if s.php != "" {
		args = append(args, "--php-user", s.php)
	}
	return args
}

// jsonPlan is the part of the JSON plan the tests read.
type jsonPlan struct {
	Actions []struct {
		Path     string   `json:"path"`
		Ancestor bool     `json:"ancestor"`
		Rules    []string `json:"rules"`
	} `json:"actions"`
	Manual []struct {
		Path string `json:"path"`
	} `json:"manual"`
}

func decodePlan(t *testing.T, out string) jsonPlan {
	t.Helper()
	var p jsonPlan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("invalid JSON plan: %v\n%s", err, out)
	}
	return p
}

// For every fixture tree, made by running the plan's script with sh, by fix --apply, or by fix
// --apply of the saved JSON plan (whose every target passes the judge of edited plans):
// auditing again leaves no finding the plan claimed to fix, and a second plan is empty. Then
// undo of the journal puts every entry back as it was.
func TestPlanThenAuditProperty(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the fixtures' owners can only be set, and their plans run, as root")
	}
	for _, s := range fixtureSystems {
		for _, way := range []string{"script", "apply", "saved"} {
			t.Run(s.manifest+"/"+way, func(t *testing.T) {
				sysroot, roots := s.materialise(t)
				flags := s.flags(sysroot)
				run := func(want []int, args ...string) string {
					t.Helper()
					code, out, errOut := webperm(t, append(append(args, flags...), roots...)...)
					if !slices.Contains(want, code) {
						t.Fatalf("webperm %s: exit %d, want one of %v\n%s", strings.Join(args, " "), code, want, errOut)
					}
					return out
				}
				findings := []int{exitClean, exitFindings}
				before := snapshotTree(t, sysroot, roots)
				plan := decodePlan(t, run(findings, "plan", "--format", "json"))
				claimed := map[string]bool{}
				for _, a := range plan.Actions {
					for _, r := range a.Rules {
						claimed[a.Path+" "+r] = true
					}
				}
				if len(plan.Actions) == 0 && !strings.Contains(s.manifest, "clean") {
					t.Fatalf("no actions: the property would hold of nothing")
				}
				journal := filepath.Join(t.TempDir(), "journal.jsonl")
				switch way {
				case "script":
					script := filepath.Join(t.TempDir(), "fix.sh")
					run(findings, "plan", "-o", script)
					runScript(t, script, "--include-ancestors", "--journal", journal)
				case "apply":
					run([]int{exitClean}, "fix", "--apply", "--include-ancestors", "--journal", journal)
				case "saved":
					saved := filepath.Join(t.TempDir(), "plan.json")
					run(findings, "plan", "--format", "json", "-o", saved)
					if code, out, errOut := webperm(t, "fix", "--apply", "--include-ancestors", "--plan", saved, "--journal", journal); code != exitClean {
						t.Fatalf("fix --apply --plan of webperm's own plan: exit %d\n%s\n%s", code, out, errOut)
					}
				}
				for _, f := range decode(t, run(findings, "audit", "--format", "json")).RawFindings {
					if key := f["path"].(string) + " " + f["rule"].(string); claimed[key] {
						t.Errorf("after the plan: %s: %s", key, f["message"])
					}
				}
				if again := decodePlan(t, run(findings, "plan", "--format", "json")); len(again.Actions) > 0 {
					t.Errorf("a second plan is not empty: %+v", again.Actions)
				}
				if code, _, errOut := webperm(t, "undo", journal); code != exitClean {
					t.Fatalf("undo: exit %d\n%s", code, errOut)
				}
				after := snapshotTree(t, sysroot, roots)
				for p, was := range before {
					if after[p] != was {
						t.Errorf("%s: %o %d:%d after undo, was %o %d:%d", p, after[p][0], after[p][1], after[p][2], was[0], was[1], was[2])
					}
				}
			})
		}
	}
}

// asMainEnv makes the test binary run as webperm itself, for a sh plan to hand itself to: the
// plan runs the binary that wrote it, which here is this one.
const asMainEnv = "WEBPERM_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// runScript runs the sh plan at script with sh and args, which must apply all of it, exit 0.
func runScript(t *testing.T, script string, args ...string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{script}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh %s: %v\n%s", script, err, out)
	}
}

// snapshotTree records the mode and owner of every entry in the roots and above them up to
// sysroot, symlinks not followed.
func snapshotTree(t *testing.T, sysroot string, roots []string) map[string][3]uint32 {
	t.Helper()
	out := map[string][3]uint32{}
	record := func(p string) error {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		out[p] = [3]uint32{st.Mode, st.Uid, st.Gid}
		return nil
	}
	for _, r := range roots {
		for d := filepath.Dir(r); strings.HasPrefix(d, sysroot+"/"); d = filepath.Dir(d) {
			if err := record(d); err != nil {
				t.Fatal(err)
			}
		}
		err := filepath.WalkDir(r, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return record(p)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// fix --apply --plan applies a saved plan exactly: an action a reviewer cut is not made, even
// though a fresh audit would plan it.
func TestApplySavedPlanExactly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("fix --apply changes owners only as root")
	}
	root := tree(t, `
d 0755 0:0 .
f 0666 0:0 index.html
f 0666 0:0 keep.html
`)
	dir := t.TempDir()
	planFile, journal := filepath.Join(dir, "plan.json"), filepath.Join(dir, "journal.jsonl")
	savePlan(t, root, "json", planFile)
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	actions := doc["actions"].([]any)
	kept := actions[:0]
	for _, a := range actions {
		if !strings.HasSuffix(a.(map[string]any)["path"].(string), "/keep.html") {
			kept = append(kept, a)
		}
	}
	if len(kept) != 1 {
		t.Fatalf("actions %v, want index.html and keep.html", actions)
	}
	doc["actions"] = kept
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(planFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := webperm(t, "fix", "--apply", "--plan", planFile, "--journal", journal)
	if code != exitClean || !strings.Contains(out, "changed  "+root+"/index.html: 0644 0:0, was 0666 0:0") {
		t.Fatalf("fix --apply --plan: exit %d\n%s\n%s", code, out, errOut)
	}
	for name, want := range map[string]uint32{"index.html": 0o644, "keep.html": 0o666} {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(root, name), &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode&0o7777 != want {
			t.Errorf("%s: %04o, want %04o", name, st.Mode&0o7777, want)
		}
	}
}

func TestFixErrors(t *testing.T) {
	root := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\nd 0755 0:0 sub\n")
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.jsonl")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	badPlan := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badPlan, []byte(`{"schema": "webperm/plan/v1", "actions": [}`), 0o600); err != nil {
		t.Fatal(err)
	}
	badScript := filepath.Join(dir, "fix.sh")
	if err := os.WriteFile(badScript, []byte("#!/bin/sh\nchmod 0777 /etc/shadow\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writable := filepath.Join(dir, "writable.json")
	if err := os.WriteFile(writable, nil, 0o600); err != nil || os.Chmod(writable, 0o666) != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(dir, "linked.jsonl")
	if err := os.Symlink(writable, linked); err != nil {
		t.Fatal(err)
	}
	badJournal := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(badJournal, []byte("{\"schema\":\"webperm/journal/v1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string // on stderr
	}{
		{"plan needs apply", []string{"fix", "--plan", badPlan, root}, []string{"webperm: --plan needs --apply"}},
		{"journal needs apply", []string{"fix", "--journal", existing, root}, []string{"webperm: --journal needs --apply"}},
		{"apply prints no plan", []string{"fix", "--apply", "--format", "json", root}, []string{"webperm: --format writes a plan", "hint: save the plan with webperm plan"}},
		{"saved plan and a path", []string{"fix", "--apply", "--plan", badPlan, root}, []string{"webperm: --plan applies a saved plan: give no PATH"}},
		{"corrupt plan", []string{"fix", "--apply", "--plan", badPlan}, []string{"webperm: " + badPlan + ":1:43: invalid character '}'"}},
		{"journal exists", []string{"fix", "--apply", "--web-user", "www-data", "--journal", existing, root}, []string{existing, "hint: name a new file outside every web root"}},
		{"journal in a missing directory", []string{"fix", "--apply", "--web-user", "www-data", "--journal", filepath.Join(dir, "missing", "j.jsonl"), root}, []string{"webperm: --journal " + filepath.Join(dir, "missing", "j.jsonl") + ": " + filepath.Join(dir, "missing") + ": no such file or directory\n", "hint: --journal FILE must be in a directory that exists"}},
		{"journal in the root", []string{"fix", "--apply", "--web-user", "www-data", "--journal", filepath.Join(root, "j.jsonl"), root}, []string{"inside the web root " + root}},
		{"saved plan and a policy", []string{"fix", "--apply", "--plan", badPlan, "--web-user", "nobody"}, []string{"webperm: --web-user has no say over a saved plan"}},
		{"plan others may write", []string{"fix", "--apply", "--plan", writable}, []string{"is writable by others (mode 0666)"}},
		{"plan-id needs a plan", []string{"fix", "--apply", "--plan-id", strings.Repeat("a", 32), root}, []string{"webperm: --plan-id needs --plan", "hint: a sh plan passes both"}},
		{"plan-id of a JSON plan", []string{"fix", "--apply", "--plan", badPlan, "--plan-id", strings.Repeat("a", 32)}, []string{"handed webperm --plan " + badPlan + ", which is not that script", "hint: run the plan as a file"}},
		{"broken sh plan", []string{"fix", "--apply", "--plan", badScript}, []string{"webperm: " + badScript + ":2: chmod 0777 /etc/shadow: not a line webperm writes"}},
		{"journal through a symlink", []string{"undo", linked}, []string{"a symlink: webperm reads the journal only from a file of its own"}},
		{"nested roots", []string{"plan", root, filepath.Join(root, "sub")}, []string{"roots nest"}},
		{"plan format", []string{"plan", "--format", "yaml", root}, []string{`webperm: unknown plan format "yaml"`, "hint: use --format sh or --format json"}},
		{"corrupt journal", []string{"undo", badJournal}, []string{"webperm: " + badJournal + ":1:", "hint: undo takes the journal fix --apply wrote, whole"}},
		{"undo needs a journal", []string{"undo"}, []string{"webperm: undo takes one JOURNAL, not 0", "hint: webperm undo /var/lib/webperm/journal-TIME.jsonl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := webperm(t, tc.args...)
			if code != exitError || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(root, "index.html"), &st); err != nil || st.Mode&0o777 != 0o666 {
		t.Errorf("a refused fix changed index.html: %04o, %v", st.Mode&0o7777, err)
	}
}

// A plan or journal someone else could edit or replace is refused, and nothing changes: whoever
// can write one could have root change anything.
func TestPlanAndJournalMustBeRoots(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("files owned by another user can only be made as root")
	}
	root := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	dir := t.TempDir()
	theirs := filepath.Join(dir, "theirs.json")
	open := filepath.Join(dir, "open")
	shared := filepath.Join(open, "plan.json")
	for _, f := range []string{theirs, shared} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(theirs, 1001, 1001); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil { // writable by all, and not sticky
		t.Fatal(err)
	}
	// Their symlink to a directory of root's: they choose where root's journal goes.
	safe, link := filepath.Join(dir, "safe"), filepath.Join(dir, "link")
	if err := os.Mkdir(safe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(safe, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 1001, 1001); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"plan of another user", []string{"fix", "--apply", "--plan", theirs}, "the plan " + theirs + " is owned by uid 1001"},
		{"journal of another user", []string{"undo", theirs}, "the journal " + theirs + " is owned by uid 1001"},
		{"plan in a directory all may write", []string{"fix", "--apply", "--plan", shared}, "the plan's directory " + open + " is writable by others (mode 0777)"},
		{"journal into a directory all may write", []string{"fix", "--apply", "--web-user", "www-data", "--journal", filepath.Join(open, "j.jsonl"), root}, "the journal's directory " + open + " is writable by others (mode 0777)"},
		{"journal through another user's symlink", []string{"fix", "--apply", "--web-user", "www-data", "--journal", filepath.Join(link, "j.jsonl"), root}, "the journal's directory " + link + " is owned by uid 1001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := webperm(t, tc.args...)
			if code != exitError || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, and %q", code, out, errOut, tc.want)
			}
		})
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(root, "index.html"), &st); err != nil || st.Mode&0o7777 != 0o666 {
		t.Errorf("a refused fix changed index.html: %04o, %v", st.Mode&0o7777, err)
	}
	if _, err := os.Lstat(filepath.Join(safe, "j.jsonl")); err == nil {
		t.Error("a journal was written through another user's symlink")
	}
}

// A sh plan a reviewer cut down, run with sh, applies exactly what is left; run from stdin, or
// handed a plan-id that is not its own, it is refused whole with exit 2, naming why, and
// nothing changes.
func TestScriptPlan(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("fix --apply changes owners only as root")
	}
	root := tree(t, `
d 0755 0:0 .
f 0666 0:0 index.html
f 0666 0:0 keep.html
`)
	dir := t.TempDir()
	script, journal := filepath.Join(dir, "fix.sh"), filepath.Join(dir, "journal.jsonl")
	savePlan(t, root, "sh", script)
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "chmod ") || !strings.Contains(line, "keep.html") {
			kept = append(kept, line)
		}
	}
	if len(kept) != strings.Count(string(data), "\n") {
		t.Fatalf("no chmod of keep.html to delete:\n%s", data)
	}
	if err := os.WriteFile(script, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`--plan-id ([0-9a-f]{32})`).FindStringSubmatch(string(data))
	if id == nil {
		t.Fatalf("no plan-id:\n%s", data)
	}
	refusals := []struct {
		name  string
		cmd   *exec.Cmd
		wants []string
	}{
		{"from stdin", exec.Command("sh"), []string{"webperm: the sh plan with plan-id " + id[1] + " handed webperm --plan sh, which is not that script", "not 'sh < fix.sh' or through a pipe"}},
		{"another plan-id", exec.Command(os.Args[0], "fix", "--apply", "--plan", script, "--plan-id", strings.Repeat("0", 32)), []string{"has plan-id \"" + id[1] + "\", not \"" + strings.Repeat("0", 32) + "\""}},
	}
	for _, r := range refusals {
		r.cmd.Dir = t.TempDir()
		r.cmd.Env = append(os.Environ(), asMainEnv+"=1")
		r.cmd.Stdin = strings.NewReader(string(data))
		out, _ := r.cmd.CombinedOutput()
		if code := r.cmd.ProcessState.ExitCode(); code != exitError {
			t.Errorf("%s: exit %d, want 2\n%s", r.name, code, out)
		}
		for _, want := range r.wants {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: output lacks %q:\n%s", r.name, want, out)
			}
		}
	}
	for _, name := range []string{"index.html", "keep.html"} {
		if m := lstatPerm(t, filepath.Join(root, name)); m != 0o666 {
			t.Fatalf("%s is %04o after a refused plan", name, m)
		}
	}
	runScript(t, script, "--journal", journal)
	for name, want := range map[string]uint32{"index.html": 0o644, "keep.html": 0o666} {
		if m := lstatPerm(t, filepath.Join(root, name)); m != want {
			t.Errorf("%s: %04o, want %04o", name, m, want)
		}
	}
}

// savePlan writes the plan of root, in format, to file, as a reviewer would get it.
func savePlan(t *testing.T, root, format, file string) {
	t.Helper()
	if code, _, errOut := webperm(t, "plan", "--format", format, "-o", file, "--web-user", "www-data", root); code != exitFindings {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
}

// lstatPerm is the permission bits of p, a symlink's own.
func lstatPerm(t *testing.T, p string) uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mode & 0o7777
}

// The sh plan runs the webperm that wrote it only where no one but root can replace it.
func TestRootOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs files of root's and of another user's")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "webperm")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := rootOnly(bin); got != bin {
		t.Errorf("rootOnly(%s) = %q, want the path", bin, got)
	}
	for _, tc := range []struct {
		name string
		mess func() error
	}{
		{"the binary another user's", func() error { return os.Chown(bin, 1000, 1000) }},
		{"the binary group-writable", func() error { return os.Chmod(bin, 0o775) }},
		{"its directory writable by all", func() error { return os.Chmod(dir, 0o777) }},
		{"its directory another user's", func() error { return os.Chown(dir, 1000, 1000) }},
	} {
		if err := tc.mess(); err != nil {
			t.Fatal(err)
		}
		if got := rootOnly(bin); got != "" {
			t.Errorf("%s: rootOnly = %q, want \"\"", tc.name, got)
		}
		if err := errors.Join(os.Chown(bin, 0, 0), os.Chmod(bin, 0o755), os.Chown(dir, 0, 0), os.Chmod(dir, 0o700)); err != nil {
			t.Fatal(err)
		}
	}
}

// A reviewer may edit a saved plan's targets, but webperm makes no change its own audit would
// report: each edited target that would break a rule at medium or above, or give a set-id or
// sticky bit, is refused on its own, named, and the rest of the plan is made.
func TestEditedPlanTargetsAreJudged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("fix --apply changes owners only as root")
	}
	root := tree(t, `
d 0755 0:0 .
f 0666 0:0 index.html
f 0666 0:0 wider.html
f 0666 0:0 code.php
f 0600 0:0 setuid.html
f 0666 0:0 closed.html
d 0700 0:0 open
`)
	dir := t.TempDir()
	planFile, journal := filepath.Join(dir, "plan.json"), filepath.Join(dir, "journal.jsonl")
	savePlan(t, root, "json", planFile)
	// What the reviewer asks for instead of webperm's target, and the rule that refuses it.
	edits := map[string]struct {
		target fixture.Target
		refuse string
	}{
		"wider.html":  {fixture.Target{Mode: "0664", GID: -1}, "mode-too-open"},
		"code.php":    {fixture.Target{Mode: "0664", GID: 33}, "web-writable-code"},
		"setuid.html": {fixture.Target{Mode: "4644", GID: -1}, "setuid bit"},
		"closed.html": {fixture.Target{Mode: "0640", GID: -1}, "web-unreadable"},
		"open":        {fixture.Target{Mode: "0757", GID: -1}, "world-writable"},
	}
	targets := map[string]fixture.Target{}
	for name, e := range edits {
		targets[name] = e.target
	}
	if err := fixture.EditTargets(planFile, targets); err != nil {
		t.Fatal(err)
	}
	before := snapshotTree(t, root, []string{root})
	code, out, errOut := webperm(t, "fix", "--apply", "--plan", planFile, "--journal", journal)
	if code != exitNotApplied {
		t.Fatalf("fix --apply --plan of an edited plan: exit %d, want %d\n%s\n%s", code, exitNotApplied, out, errOut)
	}
	if !strings.Contains(out, "changed  "+root+"/index.html: 0644 0:0, was 0666 0:0") {
		t.Errorf("the unedited action was not made:\n%s", out)
	}
	after := snapshotTree(t, root, []string{root})
	for name, e := range edits {
		p := filepath.Join(root, name)
		line := lineOf(out, "failed   "+p+": ")
		if line == "" || !strings.Contains(line, e.refuse) || !strings.Contains(line, "refused") {
			t.Errorf("%s: want it refused for %s, got %q\n%s", name, e.refuse, line, out)
		}
		if after[p] != before[p] {
			t.Errorf("%s changed from %v to %v though refused", name, before[p], after[p])
		}
	}
}

// lineOf returns the line of out that starts with prefix, or "".
func lineOf(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// An edited sh plan's targets are judged as a JSON plan's are: a chmod a reviewer widened is
// refused, named, and the rest of the script's changes are made.
func TestEditedScriptTargetIsJudged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("fix --apply changes owners only as root")
	}
	root := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\nf 0666 0:0 wider.html\n")
	dir := t.TempDir()
	script := filepath.Join(dir, "fix.sh")
	savePlan(t, root, "sh", script)
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	planned := "chmod -- 0644 '" + root + "/wider.html'"
	if !strings.Contains(string(data), planned) {
		t.Fatalf("no %q in the plan:\n%s", planned, data)
	}
	edited := strings.Replace(string(data), planned, "chmod -- 0664 '"+root+"/wider.html'", 1)
	if err := os.WriteFile(script, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", script, "--journal", filepath.Join(dir, "journal.jsonl"))
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != exitNotApplied {
		t.Fatalf("sh of an edited plan: exit %d, want %d\n%s", code, exitNotApplied, out)
	}
	if line := lineOf(string(out), "failed   "+root+"/wider.html: "); !strings.Contains(line, "mode-too-open") {
		t.Errorf("the widened chmod is not refused for mode-too-open: %q\n%s", line, out)
	}
	for name, want := range map[string]uint32{"index.html": 0o644, "wider.html": 0o666} {
		if m := lstatPerm(t, filepath.Join(root, name)); m != want {
			t.Errorf("%s: %04o, want %04o", name, m, want)
		}
	}
}

// A set-id bit kept through a change of owner or group is one the new owner or group did not
// have: what the old owner wrote would run as the new one. plan never makes such a change (the
// kernel's chown drops the bit, and so does webperm's fix), and an edited target that asks for
// one is refused as a granted bit is, even where the policy allows the bit.
func TestEditedPlanKeepsNoSetIDThroughAChown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("fix --apply changes owners only as root")
	}
	root := tree(t, `
d 0755 1000:1000 .
f 2757 1000:1000 helper
`)
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte("version: 1\npreset: default\nrules:\n  - paths: helper\n    file_mode: \"2755\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	planFile, journal := filepath.Join(dir, "plan.json"), filepath.Join(dir, "journal.jsonl")
	if code, _, errOut := webperm(t, "plan", "--format", "json", "--policy", policyFile, "-o", planFile, "--web-user", "www-data", root); code != exitFindings {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	// The reviewer gives the helper to the web server's group, and keeps the setgid bit the
	// policy allows: a setgid www-data program of uid 1000's writing.
	if err := fixture.EditTargets(planFile, map[string]fixture.Target{"helper": {Mode: "2755", GID: 33}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := webperm(t, "fix", "--apply", "--plan", planFile, "--journal", journal)
	helper := filepath.Join(root, "helper")
	if line := lineOf(out, "failed   "+helper+": "); code != exitNotApplied || !strings.Contains(line, "setgid bit") || !strings.Contains(line, "refused") {
		t.Errorf("fix --apply --plan: exit %d, want %d, and helper refused for its setgid bit; got %q\n%s\n%s", code, exitNotApplied, line, out, errOut)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(helper, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&syscall.S_ISGID != 0 && st.Gid == 33 {
		t.Errorf("helper is %04o %d:%d: setgid www-data, on what uid 1000 wrote", st.Mode&0o7777, st.Uid, st.Gid)
	}
}

// fix --apply --plan holds a saved plan's roots to the system directories of the system the plan
// was made for: a plan whose recorded system root makes its root that system's /etc is refused.
func TestSavedPlanSystemRootOfItsSystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("fix --apply changes owners only as root")
	}
	root := tree(t, "d 0755 0:0 .\nf 0666 0:0 index.html\n")
	sys := filepath.Join(filepath.Dir(root), "image")
	etc := filepath.Join(sys, "etc")
	if err := os.MkdirAll(sys, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(root, etc); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	savePlan(t, etc, "json", planFile)
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["sysroot"] = sys
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(planFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := webperm(t, "fix", "--apply", "--plan", planFile, "--journal", filepath.Join(t.TempDir(), "j.jsonl"))
	if code != exitError || !strings.Contains(errOut, "is a system directory") {
		t.Errorf("a plan of its system's /etc: exit %d, want 2 naming a system directory\n%s\n%s", code, out, errOut)
	}
	if m := lstatPerm(t, filepath.Join(etc, "index.html")); m != 0o666 {
		t.Errorf("index.html is %04o after a refused plan", m)
	}
}

// A site chowned to the web server is given back to --site-owner: the header says whose the site
// is, the plan records it, and fix --apply of that saved plan, judged with the same owner, makes
// every chown.
func TestSiteOwnerFlag(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the tree's owners can only be set as root")
	}
	root := tree(t, "d 0755 33:33 .\nf 0644 33:33 index.html\nf 0644 33:33 style.css\n")
	// nobody stands for the site's owner: a user every host has.
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("the host has no user nobody to stand for a site's owner: %v", err)
	}
	code, out, errOut := webperm(t, "audit", "--web-user", "www-data", "--site-owner", "nobody", root)
	if code != exitFindings || !strings.Contains(out, "owner     nobody (--site-owner)") {
		t.Errorf("audit --site-owner nobody: exit %d, want 1 and the site owner in the header\n%s\n%s", code, out, errOut)
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if code, _, errOut := webperm(t, "plan", "--format", "json", "-o", planFile, "--web-user", "www-data", "--site-owner", "nobody", root); code != exitFindings {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"site_owner": `+nobody.Uid) {
		t.Errorf("the plan does not record the site owner:\n%s", data)
	}
	if code, out, errOut := webperm(t, "fix", "--apply", "--plan", planFile, "--journal", filepath.Join(t.TempDir(), "j.jsonl")); code != exitClean {
		t.Fatalf("fix --apply --plan: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, name := range []string{".", "index.html", "style.css"} {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(root, name), &st); err != nil {
			t.Fatal(err)
		}
		if strconv.Itoa(int(st.Uid)) != nobody.Uid {
			t.Errorf("%s is owned by %d after the fix, want the site owner nobody (%s)", name, st.Uid, nobody.Uid)
		}
	}
	if code, _, errOut := webperm(t, "audit", "--site-owner", "nosuchuser", root); code != exitError || !strings.Contains(errOut, `--site-owner "nosuchuser": no such user`) {
		t.Errorf("an unknown --site-owner: exit %d\n%s", code, errOut)
	}
}

// What a distribution package installed is not changed: its next upgrade would put the mode and
// owner back. The report names the package, and the plan leaves the change to a person, with
// what makes it last: dpkg-statoverride where dpkg installed it; rpm, which keeps no override,
// says so. What the package did not install is planned as ever.
func TestPackagedPathsAreLeftToAPerson(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the tree's owners can only be set as root")
	}
	rpmdb, err := os.ReadFile("../../audit/testdata/rpm/rpmdb.sqlite") // testapp owns /usr/share/testapp/index.php
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		manager, app, pkg string
		db                map[string][]byte // the database's files, below the system's root
		report, plan      string            // what the text report and the plan say of index.php
	}{
		{"dpkg", "app", "app", map[string][]byte{"var/lib/dpkg/info/app:all.list": []byte("/.\n/usr/share/app\n/usr/share/app/index.php\n")},
			"dpkg-statoverride keeps one", "dpkg-statoverride --update --add root root 0644 {root}/index.php"},
		{"rpm", "testapp", "testapp", map[string][]byte{"var/lib/rpm/rpmdb.sqlite": rpmdb},
			"rpm keeps none", "rpm keeps no override: make it root:root 0644 again after each update of the package"},
	} {
		t.Run(tc.manager, func(t *testing.T) {
			sys := fixture.TempDir(t)
			for _, name := range []string{"passwd", "group"} {
				data, err := os.ReadFile(filepath.Join(demoSysroot, "etc", name))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(sys, "etc"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(sys, "etc", name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			entries, err := fixture.Parse(strings.NewReader("d 0755 0:0 .\nf 0666 0:0 index.php\nf 0666 0:0 local.php\n"), t.Name())
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(sys, "usr", "share", tc.app)
			if err := fixture.Materialise(afero.NewOsFs(), root, entries, fixture.Options{Chown: true}); err != nil {
				t.Fatal(err)
			}
			for rel, data := range tc.db {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(sys, rel)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(sys, rel), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			flags := []string{"--root", sys, "--web-user", "www-data", "--preset", "default"}
			code, out, errOut := webperm(t, append([]string{"audit", "--format", "json"}, append(flags, root)...)...)
			if code != exitFindings {
				t.Fatalf("audit: exit %d\n%s", code, errOut)
			}
			packaged := map[string]string{}
			for _, f := range decode(t, out).RawFindings {
				pkg, _ := f["package"].(string)
				packaged[filepath.Base(f["path"].(string))] = pkg
			}
			if packaged["index.php"] != tc.pkg || packaged["local.php"] != "" {
				t.Errorf("the findings' packages: %v, want index.php's %s and local.php's none", packaged, tc.pkg)
			}
			_, out, _ = webperm(t, append([]string{"audit"}, append(flags, root)...)...)
			if !strings.Contains(out, "installed by the package "+tc.pkg+": its next upgrade reverts a chmod or chown; "+tc.report) {
				t.Errorf("the report does not say %q of index.php:\n%s", tc.report, out)
			}
			code, out, errOut = webperm(t, append([]string{"plan", "--format", "json"}, append(flags, root)...)...)
			if code != exitFindings {
				t.Fatalf("plan: exit %d\n%s", code, errOut)
			}
			plan := decodePlan(t, out)
			if len(plan.Actions) != 1 || filepath.Base(plan.Actions[0].Path) != "local.php" {
				t.Errorf("actions %+v, want local.php's alone", plan.Actions)
			}
			if want := strings.ReplaceAll(tc.plan, "{root}", root); !strings.Contains(out, want) {
				t.Errorf("the plan does not leave index.php to a person with %q:\n%s", want, out)
			}
		})
	}
}

// --writable GLOB says where the app writes: there group write for the web server's group is no
// fault and no fix takes it away; the plan records the globs, and its saved form is judged with
// them.
func TestWritableFlag(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the tree's owners can only be set as root")
	}
	root := tree(t, "d 0755 0:0 .\nf 0644 0:0 index.php\nd 0775 0:33 data\nf 0664 0:33 data/cache.bin\nf 0666 0:0 page.html\n")
	rules := func(args ...string) map[string][]string {
		t.Helper()
		code, out, errOut := webperm(t, append([]string{"audit", "--format", "json", "--web-user", "www-data", "--preset", "default"}, append(args, root)...)...)
		if code != exitFindings {
			t.Fatalf("audit %v: exit %d\n%s", args, code, errOut)
		}
		got := map[string][]string{}
		for _, f := range decode(t, out).RawFindings {
			rel := strings.TrimPrefix(strings.TrimPrefix(f["path"].(string), root), "/")
			got[rel] = append(got[rel], f["rule"].(string))
		}
		return got
	}
	if got := rules(); len(got["data"]) == 0 || len(got["data/cache.bin"]) == 0 {
		t.Fatalf("without --writable, data's group write is no fault: %v", got)
	}
	if got := rules("--writable", "data"); len(got["data"])+len(got["data/cache.bin"]) != 0 || len(got["page.html"]) == 0 {
		t.Errorf("with --writable data: %v, want nothing on data, page.html still reported", got)
	}
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if code, _, errOut := webperm(t, "plan", "--format", "json", "-o", planFile, "--web-user", "www-data", "--preset", "default", "--writable", "data", root); code != exitFindings {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"writable": [`) || strings.Contains(string(data), root+"/data") {
		t.Errorf("the plan does not record --writable, or changes data:\n%s", data)
	}
	if code, out, errOut := webperm(t, "fix", "--apply", "--plan", planFile, "--journal", filepath.Join(t.TempDir(), "j.jsonl")); code != exitClean {
		t.Errorf("fix --apply --plan: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := webperm(t, "audit", "--writable", "../up", root); code != exitError || !strings.Contains(errOut, `--writable "../up"`) {
		t.Errorf("a bad --writable: exit %d\n%s", code, errOut)
	}
}
