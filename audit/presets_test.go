package audit

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// presetCase audits one platform's layout, from testdata/presets/DIR, in its correct state and
// with the platform's typical faults. Each manifest describes a whole system: "." is its root,
// which the audit takes as Auditor.SysRoot, so the hosting panels' markers (/usr/local/cpanel) and
// the directories above each web root (a cPanel home) are the fixture's own. Its accounts are
// DIR/etc/passwd and DIR/etc/group.
type presetCase struct {
	name          string
	dir           string
	clean, faults string   // manifests below dir
	roots         []string // the audited roots, relative to the system's root
	// preset is Auditor.Preset; where combined is set, Auditor.Policy is policy.Preset(combined)
	// instead, and the report shows no detection.
	preset, combined string
	// detected is the preset rep.Presets must show for every root, and evidence the markers auto
	// must give as the reason, relative to the system's root (for auto only).
	detected string
	evidence []string
	web, php string // identities by name; php "" runs PHP as the web server's user (mod_php)
	// findings are what the faults manifest must yield, and nothing else: path relative to the
	// system's root, then the rule ids in order.
	findings map[string][]string
	// severity pins the severity the preset gives some of them: "path rule" → severity.
	severity map[string]policy.Severity
	// cleanInfo are the findings the correct state has by the platform's design, each at info
	// (Nextcloud's config.php, PHP it includes from a directory it writes): the clean manifest
	// must yield exactly these, and the faults manifest these besides its own findings.
	cleanInfo map[string][]string
}

// withInfo returns findings with the rules of info, the correct state's by design, added to each
// path's, sorted.
func withInfo(findings, info map[string][]string) map[string][]string {
	out := maps.Clone(findings)
	for p, rules := range info {
		out[p] = append(slices.Clone(out[p]), rules...)
		slices.Sort(out[p])
	}
	return out
}

// prefixed returns findings with each path, given relative to root, relative to the system's root.
func prefixed(root string, findings map[string][]string) map[string][]string {
	out := make(map[string][]string, len(findings))
	for rel, rules := range findings {
		out[path.Join(root, rel)] = rules
	}
	return out
}

var presetCases = []presetCase{
	{
		name: "wordpress/mod_php", dir: "wordpress", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/example.com"}, preset: policy.Auto,
		detected: "wordpress", evidence: []string{"var/www/example.com/wp-includes/version.php"},
		web: "www-data",
		findings: prefixed("var/www/example.com", map[string][]string{
			"wp-config.php":                            {"sensitive-exposed"},
			"wp-content/plugins/akismet/readme.txt":    {"web-user-owns"},
			"wp-content/plugins/hello-dolly":           {"web-user-owns"},
			"wp-content/plugins/hello-dolly/hello.php": {"web-writable-code"},
			"wp-content/uploads":                       {"web-unwritable"},
			"wp-content/uploads/2024/05/shell.php":     {"script-in-writable-dir"},
		}),
		severity: map[string]policy.Severity{
			"var/www/example.com/wp-content/uploads/2024/05/shell.php script-in-writable-dir": policy.Critical,
			"var/www/example.com/wp-content/plugins/hello-dolly/hello.php web-writable-code":  policy.High,
			"var/www/example.com/wp-config.php sensitive-exposed":                             policy.High,
		},
	},
	{
		name: "wordpress/php-fpm as the site's account", dir: "wordpress", clean: "clean-fpm.manifest", faults: "faults-fpm.manifest",
		roots: []string{"var/www/example.com"}, preset: "wordpress", detected: "wordpress",
		web: "www-data", php: "deploy",
		findings: prefixed("var/www/example.com", map[string][]string{
			"wp-config.php":                          {"sensitive-exposed"},
			"wp-content/plugins/akismet/akismet.php": {"web-writable-code"},
			"wp-content/plugins/akismet/readme.txt":  {"web-user-owns"},
			"wp-content/uploads":                     {"web-unwritable"},
			"wp-content/uploads/2024/05/shell.php":   {"script-in-writable-dir"},
		}),
		severity: map[string]policy.Severity{
			"var/www/example.com/wp-content/uploads/2024/05/shell.php script-in-writable-dir": policy.Critical,
		},
	},
	{
		name: "drupal", dir: "drupal", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/drupal"}, preset: policy.Auto,
		detected: "drupal", evidence: []string{"var/www/drupal/core/lib/Drupal.php"},
		web: "www-data",
		findings: prefixed("var/www/drupal", map[string][]string{
			"sites/default":                 {"mode-too-open"},
			"sites/default/files":           {"web-unwritable"},
			"sites/default/files/.htaccess": {"web-writable-code"},
			"sites/default/services.yml":    {"mode-too-open"},
			"sites/default/settings.php":    {"sensitive-exposed", "web-writable-code"},
		}),
		severity: map[string]policy.Severity{
			"var/www/drupal/sites/default/services.yml mode-too-open":        policy.High,
			"var/www/drupal/sites/default mode-too-open":                     policy.Medium,
			"var/www/drupal/sites/default/files/.htaccess web-writable-code": policy.High,
		},
	},
	{
		name: "laravel", dir: "laravel", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/app"}, preset: policy.Auto,
		detected: "laravel", evidence: []string{"var/www/app/artisan"},
		web: "www-data",
		findings: prefixed("var/www/app", map[string][]string{
			".env":                    {"sensitive-exposed"},
			"storage":                 {"world-writable"},
			"storage/framework/views": {"web-unwritable"},
		}),
		severity: map[string]policy.Severity{"var/www/app/storage world-writable": policy.Critical},
	},
	{
		name: "magento", dir: "magento", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/magento"}, preset: policy.Auto,
		detected: "magento", evidence: []string{"var/www/magento/app/etc/env.php"},
		web: "www-data",
		findings: prefixed("var/www/magento", map[string][]string{
			"app/etc/env.php": {"sensitive-exposed"},
			"pub/media":       {"world-writable"},
			"pub/static":      {"mode-too-open"},
			"var":             {"web-unwritable"},
		}),
		severity: map[string]policy.Severity{"var/www/magento/pub/media world-writable": policy.Critical},
	},
	{
		name: "joomla", dir: "joomla", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/joomla"}, preset: policy.Auto, detected: "joomla",
		evidence: []string{"var/www/joomla/administrator/manifests/files/joomla.xml"},
		web:      "www-data",
		findings: prefixed("var/www/joomla", map[string][]string{
			"administrator/logs":                {"world-writable"},
			"administrator/logs/everything.php": {"script-in-writable-dir"},
			"cache/page/a1b2c3.php":             {"script-in-writable-dir"},
			"configuration.php":                 {"sensitive-exposed"},
			"images/banners/shell.php":          {"script-in-writable-dir"},
			"templates/cassiopeia/index.php":    {"web-writable-code"},
			"tmp":                               {"web-unwritable"},
		}),
		severity: map[string]policy.Severity{
			"var/www/joomla/configuration.php sensitive-exposed":                      policy.High,
			"var/www/joomla/cache/page/a1b2c3.php script-in-writable-dir":             policy.Info,
			"var/www/joomla/administrator/logs/everything.php script-in-writable-dir": policy.Info,
			"var/www/joomla/images/banners/shell.php script-in-writable-dir":          policy.Critical,
		},
	},
	{
		name: "phpmyadmin", dir: "phpmyadmin", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/phpmyadmin"}, preset: policy.Auto, detected: "phpmyadmin",
		evidence: []string{"var/www/phpmyadmin/config.sample.inc.php", "var/www/phpmyadmin/index.php", "var/www/phpmyadmin/libraries"},
		web:      "www-data",
		findings: prefixed("var/www/phpmyadmin", map[string][]string{
			"config.inc.php":               {"sensitive-exposed"},
			"libraries/classes/Config.php": {"web-writable-code"},
			"themes":                       {"world-writable"},
			"tmp":                          {"web-unwritable"},
		}),
		severity: map[string]policy.Severity{
			"var/www/phpmyadmin/config.inc.php sensitive-exposed": policy.High,
			"var/www/phpmyadmin/themes world-writable":            policy.Critical,
		},
	},
	{
		name: "mediawiki", dir: "mediawiki", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/wiki"}, preset: policy.Auto, detected: "mediawiki",
		evidence: []string{"var/www/wiki/mw-config", "var/www/wiki/load.php", "var/www/wiki/api.php"},
		web:      "www-data",
		findings: prefixed("var/www/wiki", map[string][]string{
			"LocalSettings.php":     {"sensitive-exposed"},
			"cache":                 {"world-writable"},
			"images":                {"web-unwritable"},
			"images/a/ab/shell.php": {"script-in-writable-dir"},
		}),
		severity: map[string]policy.Severity{
			"var/www/wiki/LocalSettings.php sensitive-exposed":          policy.High,
			"var/www/wiki/images/a/ab/shell.php script-in-writable-dir": policy.Critical,
		},
	},
	{
		name: "dokuwiki", dir: "dokuwiki", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/dokuwiki"}, preset: policy.Auto, detected: "dokuwiki",
		evidence: []string{"var/www/dokuwiki/doku.php", "var/www/dokuwiki/inc/init.php"},
		web:      "www-data",
		findings: prefixed("var/www/dokuwiki", map[string][]string{
			"conf/dokuwiki.php":   {"web-writable-code"},
			"conf/users.auth.php": {"sensitive-exposed"},
			"data":                {"sensitive-exposed"},
			"data/pages":          {"web-unwritable"},
			"lib/plugins":         {"world-writable"},
		}),
		severity: map[string]policy.Severity{
			"var/www/dokuwiki/conf/users.auth.php sensitive-exposed": policy.High,
			"var/www/dokuwiki/data sensitive-exposed":                policy.High,
		},
	},
	{
		name: "roundcube", dir: "roundcube", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/roundcube"}, preset: policy.Auto, detected: "roundcube",
		evidence: []string{"var/www/roundcube/program", "var/www/roundcube/SQL", "var/www/roundcube/temp", "var/www/roundcube/skins"},
		web:      "www-data",
		findings: prefixed("var/www/roundcube", map[string][]string{
			"config/config.inc.php":       {"sensitive-exposed"},
			"logs":                        {"world-writable"},
			"plugins/archive/archive.php": {"web-writable-code"},
			"temp":                        {"web-unwritable"},
		}),
		severity: map[string]policy.Severity{
			"var/www/roundcube/config/config.inc.php sensitive-exposed": policy.High,
		},
	},
	{
		name: "nextcloud", dir: "nextcloud", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/nextcloud"}, preset: policy.Auto, detected: "nextcloud",
		evidence: []string{"var/www/nextcloud/occ", "var/www/nextcloud/version.php", "var/www/nextcloud/status.php"},
		web:      "www-data",
		cleanInfo: prefixed("var/www/nextcloud", map[string][]string{
			"config/config.php":        {"script-in-writable-dir"},
			"config/config.sample.php": {"script-in-writable-dir"},
			"config/redis.config.php":  {"script-in-writable-dir"},
			"apps/files/lib/App.php":   {"script-in-writable-dir"},
		}),
		findings: prefixed("var/www/nextcloud", map[string][]string{
			".htaccess":                    {"web-writable-code"},
			"config/config.php":            {"sensitive-exposed"},
			"custom_apps":                  {"web-unwritable"},
			"data":                         {"sensitive-exposed"},
			"data/alice/files/snippet.php": {"script-in-writable-dir"},
			"lib/base.php":                 {"web-writable-code"},
		}),
		severity: map[string]policy.Severity{
			"var/www/nextcloud/config/config.php sensitive-exposed":                 policy.High,
			"var/www/nextcloud/data sensitive-exposed":                              policy.High,
			"var/www/nextcloud/lib/base.php web-writable-code":                      policy.High,
			"var/www/nextcloud/data/alice/files/snippet.php script-in-writable-dir": policy.Info,
			"var/www/nextcloud/config/config.php script-in-writable-dir":            policy.Info,
		},
	},
	{
		name: "cpanel/php as an apache module", dir: "cpanel", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"home/alice/public_html", "home/bob/public_html"}, preset: policy.Auto,
		detected: "cpanel", evidence: []string{"usr/local/cpanel"},
		web: "nobody",
		findings: map[string][]string{
			"home/alice":                             {"mode-too-open"},
			"home/alice/public_html":                 {"web-untraversable"},
			"home/alice/public_html/images/logo.png": {"web-user-owns"},
			"home/bob/public_html":                   {"mode-too-open"},
		},
	},
	{
		name: "cpanel/php-fpm as alice", dir: "cpanel", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"home/alice/public_html"}, preset: "cpanel", detected: "cpanel",
		web: "nobody", php: "alice",
		findings: map[string][]string{
			"home/alice":                             {"mode-too-open"},
			"home/alice/public_html":                 {"web-untraversable"},
			"home/alice/public_html/images/logo.png": {"web-user-owns"},
		},
	},
	{
		name: "cpanel/php-fpm as bob", dir: "cpanel", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"home/bob/public_html"}, preset: "cpanel", detected: "cpanel",
		web: "nobody", php: "bob",
		findings: map[string][]string{"home/bob/public_html": {"mode-too-open"}},
	},
	{
		name: "plesk/php as an apache module", dir: "plesk", clean: "clean.manifest", faults: "faults.manifest",
		roots:  []string{"var/www/vhosts/example.com/httpdocs", "var/www/vhosts/example.org/httpdocs"},
		preset: policy.Auto, detected: "plesk", evidence: []string{"usr/local/psa"},
		web: "www-data",
		findings: map[string][]string{
			"var/www/vhosts/example.com/httpdocs":                 {"mode-too-open"},
			"var/www/vhosts/example.com/httpdocs/css/style.css":   {"group-mismatch", "owner-mismatch"},
			"var/www/vhosts/example.com/httpdocs/images/logo.png": {"group-mismatch"},
			"var/www/vhosts/example.org/httpdocs":                 {"group-mismatch", "web-untraversable"},
		},
	},
	{
		name: "plesk/php-fpm as example.com's user", dir: "plesk", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/vhosts/example.com/httpdocs"}, preset: "plesk", detected: "plesk",
		web: "www-data", php: "alice",
		findings: map[string][]string{
			"var/www/vhosts/example.com/httpdocs":                 {"mode-too-open"},
			"var/www/vhosts/example.com/httpdocs/css/style.css":   {"group-mismatch", "owner-mismatch"},
			"var/www/vhosts/example.com/httpdocs/images/logo.png": {"group-mismatch"},
		},
	},
	{
		name: "plesk/php-fpm as example.org's user", dir: "plesk", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"var/www/vhosts/example.org/httpdocs"}, preset: "plesk", detected: "plesk",
		web: "www-data", php: "bob",
		findings: map[string][]string{
			"var/www/vhosts/example.org/httpdocs": {"group-mismatch", "web-untraversable"},
		},
	},
	{
		name: "cpanel+wordpress/auto", dir: "cpanel+wordpress", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"home/alice/public_html"}, preset: policy.Auto,
		detected: "cpanel+wordpress",
		evidence: []string{"usr/local/cpanel", "home/alice/public_html/wp-includes/version.php"},
		web:      "nobody", php: "alice",
		findings: cpanelWordPressFaults,
		severity: map[string]policy.Severity{
			"home/alice/public_html/wp-content/uploads/2024/shell.php script-in-writable-dir": policy.Critical,
		},
	},
	{
		name: "cpanel+wordpress/policy.Preset", dir: "cpanel+wordpress", clean: "clean.manifest", faults: "faults.manifest",
		roots: []string{"home/alice/public_html"}, combined: "cpanel+wordpress",
		web: "nobody", php: "alice",
		findings: cpanelWordPressFaults,
		severity: map[string]policy.Severity{
			"home/alice/public_html/wp-content/uploads/2024/shell.php script-in-writable-dir": policy.Critical,
			"home/alice/public_html/wp-config.php sensitive-exposed":                          policy.High,
		},
	},
}

// cpanelWordPressFaults are a cPanel fault (the home) and WordPress's.
var cpanelWordPressFaults = map[string][]string{
	"home/alice":                           {"mode-too-open"},
	"home/alice/public_html/wp-config.php": {"sensitive-exposed"},
	"home/alice/public_html/wp-content/plugins/akismet/readme.txt": {"web-user-owns"},
	"home/alice/public_html/wp-content/uploads/2024/05":            {"web-unwritable"},
	"home/alice/public_html/wp-content/uploads/2024/shell.php":     {"script-in-writable-dir"},
}

// Each preset holds its platform's real layout: clean in its correct state, and every typical
// fault of that platform reported, each by exactly the rules expected.
func TestPresetFixtures(t *testing.T) {
	for _, tc := range presetCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("clean", func(t *testing.T) {
				sys, rep := tc.audit(t, tc.clean)
				if len(tc.cleanInfo) > 0 {
					checkRules(t, rulesBySysPath(sys, rep), tc.cleanInfo)
					for _, f := range rep.Findings {
						if f.Severity != policy.Info {
							t.Errorf("%s: %s at %s in the correct state, want info", sysRel(sys, f.Entry.Path), f.Rule, f.Severity)
						}
					}
				}
				if len(tc.cleanInfo) == 0 && len(rep.Findings) > 0 || len(rep.Errors) > 0 {
					t.Errorf("%d findings and %d errors in the correct state, want none:\n%s", len(rep.Findings), len(rep.Errors), describeReport(sys, rep))
				} else if t.Failed() {
					t.Logf("every finding:\n%s", describeReport(sys, rep))
				}
			})
			t.Run("faults", func(t *testing.T) {
				sys, rep := tc.audit(t, tc.faults)
				got := rulesBySysPath(sys, rep)
				checkRules(t, got, withInfo(tc.findings, tc.cleanInfo))
				for key, want := range tc.severity {
					p, rule, _ := strings.Cut(key, " ")
					f := findingAt(sys, rep, p, policy.RuleID(rule))
					if f == nil {
						t.Errorf("%s: no %s finding to hold to severity %s", p, rule, want)
					} else if f.Severity != want {
						t.Errorf("%s: %s at %s, want %s", p, rule, f.Severity, want)
					}
				}
				if len(rep.Errors) > 0 {
					t.Errorf("walk errors: %v", rep.Errors)
				}
				if t.Failed() {
					t.Logf("every finding:\n%s", describeReport(sys, rep))
				}
			})
			t.Run("faults are the only difference", func(t *testing.T) {
				tc.checkFaultsMatchChanges(t)
			})
		})
	}
}

// audit materialises manifest as a system below a new temporary directory, with the fixture's
// accounts in its etc/, and audits tc's roots there as the command would.
func (tc *presetCase) audit(t *testing.T, manifest string) (sys string, rep *Report) {
	t.Helper()
	if !asRoot {
		t.Skip("needs root: the fixtures' owners (www-data, nobody, the sites' accounts) must be set with chown")
	}
	sys = fixture.TempDir(t)
	if err := fixture.MaterialiseSystem(sys, filepath.Join("..", "testdata", "presets", tc.dir, manifest)); err != nil {
		t.Fatal(err)
	}
	fsys := afero.NewOsFs()
	acc, err := access.LoadAccounts(fsys, sys)
	if err != nil {
		t.Fatal(err)
	}
	web, php, err := access.ResolveIdentities(acc, access.IdentityFlags{WebUser: tc.web, PHPUser: tc.php}, access.Detected{})
	if err != nil {
		t.Fatal(err)
	}
	if (php != nil) != (tc.php != "") {
		t.Fatalf("PHP's user %+v, want %q: it must differ from the web server's", php, tc.php)
	}
	a := &Auditor{Fs: fsys, Accounts: acc, WebUser: web, PHPUser: php, SysRoot: sys, Jobs: 2, Preset: tc.preset}
	if tc.combined != "" {
		if a.Policy, err = policy.Preset(tc.combined); err != nil {
			t.Fatal(err)
		}
	}
	roots := make([]string, len(tc.roots))
	for i, r := range tc.roots {
		roots[i] = filepath.Join(sys, filepath.FromSlash(r))
	}
	rep, err = a.Run(context.Background(), roots)
	if err != nil {
		t.Fatal(err)
	}
	tc.checkPresets(t, sys, rep)
	return sys, rep
}

// checkPresets holds the report to the presets tc expects: each root's, and for auto the
// markers that chose it; with a policy given, the policy's name and no detection.
func (tc *presetCase) checkPresets(t *testing.T, sys string, rep *Report) {
	t.Helper()
	if tc.combined != "" {
		if len(rep.Presets) != 0 || rep.Policy != tc.combined {
			t.Errorf("policy %q, presets %+v; want %q and no detection", rep.Policy, rep.Presets, tc.combined)
		}
		return
	}
	if len(rep.Presets) != len(tc.roots) {
		t.Fatalf("presets %+v, want one for each of %v", rep.Presets, tc.roots)
	}
	for i, rp := range rep.Presets {
		var evidence []string
		for _, e := range rp.Evidence {
			evidence = append(evidence, sysRel(sys, e))
		}
		if sysRel(sys, rp.Root) != tc.roots[i] || rp.Preset != tc.detected || !slices.Equal(evidence, tc.evidence) {
			t.Errorf("root %s: preset %q from %q; want %s: %q from %q", sysRel(sys, rp.Root), rp.Preset, evidence, tc.roots[i], tc.detected, tc.evidence)
		}
	}
}

// checkFaultsMatchChanges holds the two manifests to each other: the faults manifest is the
// clean one with some entries changed or added, none removed, and every change at or above an
// audited root is one the test expects findings for, and the other way round. So each expected
// finding comes from a fault put there, and no fault goes unreported.
func (tc *presetCase) checkFaultsMatchChanges(t *testing.T) {
	dir := filepath.Join("..", "testdata", "presets", tc.dir)
	clean, err := fixture.Load(filepath.Join(dir, tc.clean))
	if err != nil {
		t.Fatal(err)
	}
	faults, err := fixture.Load(filepath.Join(dir, tc.faults))
	if err != nil {
		t.Fatal(err)
	}
	was := map[string]fixture.Entry{}
	for _, e := range clean {
		e.Line = 0
		was[e.Path] = e
	}
	changed := map[string]bool{}
	for _, e := range faults {
		e.Line = 0
		if old, ok := was[e.Path]; !ok || old != e {
			changed[e.Path] = true
		}
		delete(was, e.Path)
	}
	for p := range was {
		t.Errorf("%s: in %s, missing from %s", p, tc.clean, tc.faults)
	}
	relevant := func(p string) bool {
		for _, r := range tc.roots {
			if p == r || strings.HasPrefix(p, r+"/") || strings.HasPrefix(r, p+"/") {
				return true
			}
		}
		return false
	}
	for p := range changed {
		if _, ok := tc.findings[p]; !ok && relevant(p) {
			t.Errorf("%s: changed in %s, but no finding is expected for it", p, tc.faults)
		}
	}
	for p := range tc.findings {
		if !changed[p] {
			t.Errorf("%s: a finding is expected, but %s does not change it", p, tc.faults)
		}
	}
}

// sysRel returns p relative to the system's root sys, slash-separated.
func sysRel(sys, p string) string {
	rel, err := filepath.Rel(sys, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

// rulesBySysPath maps each path, relative to the system's root, to the sorted rule ids reported
// for it: ancestors of the roots have no path relative to a root.
func rulesBySysPath(sys string, rep *Report) map[string][]string {
	out := map[string][]string{}
	for _, f := range rep.Findings {
		p := sysRel(sys, f.Entry.Path)
		out[p] = append(out[p], string(f.Rule))
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

func findingAt(sys string, rep *Report, p string, rule policy.RuleID) *Finding {
	for i, f := range rep.Findings {
		if f.Rule == rule && sysRel(sys, f.Entry.Path) == p {
			return &rep.Findings[i]
		}
	}
	return nil
}

// describeReport lists every finding and error, for a failure's message.
func describeReport(sys string, rep *Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s: %s (%s): %s\n", sysRel(sys, f.Entry.Path), f.Rule, f.Severity, f.Message)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(&b, "  %s: error: %v\n", sysRel(sys, e.Path), e.Err)
	}
	return b.String()
}

// auto recognises the Debian packages' split trees by markers that are not followed through
// links (in /var/lib/mediawiki nearly every entry is a link into /usr/share/mediawiki, dangling
// here), and a marker that needs several paths fires only when all of them are there.
func TestDetectPresetDebianLayouts(t *testing.T) {
	tests := []struct {
		name     string
		layout   []string // a trailing / makes a directory, "NAME -> TARGET" a symlink
		preset   string
		evidence []string
	}{
		{"mediawiki: /var/lib/mediawiki, all links", []string{"mw-config -> /nonexistent/mw-config", "load.php -> /nonexistent/load.php", "api.php -> /nonexistent/api.php", "images/", "cache/"},
			"mediawiki", []string{"mw-config", "load.php", "api.php"}},
		{"phpmyadmin: /var/lib/phpmyadmin", []string{"blowfish_secret.inc.php", "tmp/"}, "phpmyadmin", []string{"blowfish_secret.inc.php", "tmp"}},
		{"phpmyadmin: /etc/phpmyadmin", []string{"config.inc.php", "config.header.inc.php", "config.footer.inc.php", "config-db.php"},
			"phpmyadmin", []string{"config.header.inc.php", "config.footer.inc.php", "config.inc.php"}},
		{"phpmyadmin: the sample alone is not enough", []string{"config.sample.inc.php", "index.php"}, "default", nil},
		{"dokuwiki: /var/lib/dokuwiki", []string{"data/pages/", "data/meta/", "data/attic/", "acl/", "inc -> /nonexistent/inc"},
			"dokuwiki", []string{"data/pages", "data/meta", "data/attic"}},
		{"dokuwiki: /etc/dokuwiki", []string{"dokuwiki.php", "acl.auth.php.dist", "local.php"}, "dokuwiki", []string{"dokuwiki.php", "acl.auth.php.dist"}},
		{"roundcube: /var/lib/roundcube", []string{"program -> /nonexistent/program", "SQL -> /nonexistent/SQL", "temp/", "skins/", "config -> /nonexistent/etc"},
			"roundcube", []string{"program", "SQL", "temp", "skins"}},
		{"roundcube: /etc/roundcube", []string{"defaults.inc.php", "mimetypes.php", "config.inc.php"}, "roundcube", []string{"defaults.inc.php", "mimetypes.php"}},
		{"roundcube: program/ and SQL/ without temp/", []string{"program/", "SQL/", "skins/"}, "default", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkDetect(t, tt.layout, tt.preset, tt.evidence) })
	}
}

// makeLayout makes layout in a new temporary directory and returns it: each entry a path
// relative to it, a trailing / making a directory, "NAME -> TARGET" a symlink, anything else an
// empty file.
func makeLayout(t *testing.T, layout []string) string {
	t.Helper()
	root := t.TempDir()
	for _, e := range layout {
		p := filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(strings.Fields(e)[0], "/")))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch name, target, link := strings.Cut(e, " -> "); {
		case link:
			err = os.Symlink(target, filepath.Join(root, name))
		case strings.HasSuffix(e, "/"):
			err = os.Mkdir(p, 0o755)
		default:
			err = os.WriteFile(p, nil, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// checkDetect makes layout (see makeLayout) and holds auto's choice for it to preset, chosen by
// the markers evidence, relative to the layout's root.
func checkDetect(t *testing.T, layout []string, want string, wantEvidence []string) {
	t.Helper()
	root := makeLayout(t, layout)
	preset, evidence := DetectPreset(afero.NewOsFs(), root, t.TempDir())
	var rel []string
	for _, e := range evidence {
		rel = append(rel, sysRel(root, e))
	}
	if preset != want || !slices.Equal(rel, wantEvidence) {
		t.Errorf("preset %q from %q, want %q from %q", preset, rel, want, wantEvidence)
	}
}

// auto picks nextcloud for the top of a Nextcloud release (occ beside version.php and
// status.php), and only with all three there: a tree with an occ of its own is not Nextcloud for
// that. A data directory audited on its own (outside the web root, as the hardening guide would
// have it) has none of them and gets the default preset.
func TestDetectPresetNextcloud(t *testing.T) {
	tests := []struct {
		name     string
		layout   []string
		preset   string
		evidence []string
	}{
		{"release archive", []string{"occ", "version.php", "status.php", "index.php", "public.php", "remote.php", "lib/base.php", "apps/files/", "config/config.sample.php", "3rdparty/"},
			"nextcloud", []string{"occ", "version.php", "status.php"}},
		{"installed, data/ inside", []string{"occ", "version.php", "status.php", "config/config.php", "data/.ocdata", "data/nextcloud.log", "custom_apps/"},
			"nextcloud", []string{"occ", "version.php", "status.php"}},
		{"occ and version.php without status.php", []string{"occ", "version.php", "index.php"}, "default", nil},
		{"status.php alone", []string{"status.php", "index.php"}, "default", nil},
		{"the data directory alone", []string{".ocdata", ".htaccess", "index.html", "nextcloud.log", "appdata_oc1a2b3c4d5e/", "alice/files/"}, "default", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkDetect(t, tt.layout, tt.preset, tt.evidence) })
	}
}

// packagedRoot is a tree a distribution's package of an application lays out, with the preset
// auto must pick for it; written is set where the application writes the tree itself, so that
// the web server owns its root by design and the site's owner is not its owner.
type packagedRoot struct {
	root, preset string
	written      bool
}

// debianRoots are the trees of Debian's phpmyadmin, mediawiki, dokuwiki, roundcube-core and wordpress
// packages in testdata/presets/debian.
var debianRoots = []packagedRoot{
	{root: "etc/phpmyadmin", preset: "phpmyadmin"},
	{root: "var/lib/phpmyadmin", preset: "phpmyadmin"},
	{root: "etc/mediawiki", preset: "mediawiki"},
	{root: "var/lib/mediawiki", preset: "mediawiki"},
	{root: "etc/dokuwiki", preset: "dokuwiki"},
	{root: "var/lib/dokuwiki", preset: "dokuwiki"},
	{root: "etc/roundcube", preset: "roundcube"},
	{root: "var/lib/roundcube", preset: "roundcube"},
	{root: "var/lib/wordpress", preset: "wordpress"},
}

// fedoraRoots are the trees of Fedora's and EPEL's phpMyAdmin and roundcubemail packages in
// testdata/presets/fedora, named as those packages name them.
var fedoraRoots = []packagedRoot{
	{root: "usr/share/phpMyAdmin", preset: "phpmyadmin"},
	{root: "etc/phpMyAdmin", preset: "phpmyadmin"},
	{root: "var/lib/phpMyAdmin", preset: "phpmyadmin"},
	{root: "usr/share/roundcubemail", preset: "roundcube"},
	{root: "etc/roundcubemail", preset: "roundcube"},
	{root: "var/lib/roundcubemail", preset: "roundcube", written: true},
}

// checkPackagedTrees audits the system of testdata/presets/DIR/MANIFEST, each of roots under
// --preset auto, and fails t unless each root gets its preset, the site's owner is each root's
// own, and the findings above info are want's.
func checkPackagedTrees(t *testing.T, dir, manifest, web string, roots []packagedRoot, want map[string][]string) {
	t.Helper()
	sys := fixture.TempDir(t)
	if !asRoot {
		t.Skip("needs root: the trees' owners must be set with chown")
	}
	if err := fixture.MaterialiseSystem(sys, filepath.Join("..", "testdata", "presets", dir, manifest)); err != nil {
		t.Fatal(err)
	}
	acc, err := access.LoadAccounts(afero.NewOsFs(), sys)
	if err != nil {
		t.Fatal(err)
	}
	webUser, _, err := access.ResolveIdentities(acc, access.IdentityFlags{WebUser: web}, access.Detected{})
	if err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Fs: afero.NewOsFs(), Accounts: acc, WebUser: webUser, SysRoot: sys, Jobs: 2, Preset: policy.Auto}
	var paths []string
	for _, r := range roots {
		paths = append(paths, filepath.Join(sys, filepath.FromSlash(r.root)))
	}
	rep, err := a.Run(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	for i, rp := range rep.Presets {
		if sysRel(sys, rp.Root) != roots[i].root || rp.Preset != roots[i].preset {
			t.Errorf("root %s: preset %q from %q, want %s: %q", sysRel(sys, rp.Root), rp.Preset, rp.Evidence, roots[i].root, roots[i].preset)
		}
	}
	for _, so := range rep.SiteOwners {
		if i := slices.IndexFunc(roots, func(r packagedRoot) bool { return r.root == sysRel(sys, so.Root) }); i < 0 || !roots[i].written {
			t.Errorf("root %s: site owner from %s, want the root's owner", sysRel(sys, so.Root), so.Source)
		}
	}
	got := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Severity > policy.Info {
			p := sysRel(sys, f.Entry.Path)
			got[p] = append(got[p], string(f.Rule))
		}
	}
	checkRules(t, got, want)
	if len(rep.Errors) > 0 {
		t.Errorf("walk errors: %v", rep.Errors)
	}
	if t.Failed() {
		t.Logf("every finding:\n%s", describeReport(sys, rep))
	}
}

// The packaged applications' trees, root-owned as dpkg leaves them with the paths each
// application writes www-data's, audit with nothing above info under --preset auto: root is the
// site's owner there and nothing is reported for it; and the faults an admin easily makes there
// are reported.
func TestPresetsOnDebianPackagedTrees(t *testing.T) {
	t.Run("clean", func(t *testing.T) {
		checkPackagedTrees(t, "debian", "clean.manifest", "www-data", debianRoots, map[string][]string{})
	})
	t.Run("faults", func(t *testing.T) {
		checkPackagedTrees(t, "debian", "faults.manifest", "www-data", debianRoots, map[string][]string{
			"etc/phpmyadmin/config-db.php":               {"sensitive-exposed"},
			"var/lib/phpmyadmin/blowfish_secret.inc.php": {"sensitive-exposed"},
			"etc/mediawiki/LocalSettings.php":            {"sensitive-exposed"},
			"etc/roundcube/config.inc.php":               {"sensitive-exposed"},
			"etc/roundcube/debian-db.php":                {"sensitive-exposed"},
			"var/lib/dokuwiki/acl":                       {"sensitive-exposed"},
			"var/lib/dokuwiki/acl/users.auth.php":        {"sensitive-exposed"},
			"var/lib/dokuwiki/data":                      {"sensitive-exposed"},
			"var/lib/mediawiki/images":                   {"web-unwritable"},
			"var/lib/roundcube/temp":                     {"web-unwritable"},
		})
	})
}

// Fedora's and EPEL's packages name their trees their own way (/usr/share/phpMyAdmin,
// /etc/roundcubemail) and give them to apache: auto still picks each tree's preset, finds nothing
// above info as the packages leave them, and reports the secrets an admin opens.
func TestPresetsOnFedoraPackagedTrees(t *testing.T) {
	t.Run("clean", func(t *testing.T) {
		checkPackagedTrees(t, "fedora", "clean.manifest", "apache", fedoraRoots, map[string][]string{})
	})
	t.Run("faults", func(t *testing.T) {
		checkPackagedTrees(t, "fedora", "faults.manifest", "apache", fedoraRoots, map[string][]string{
			"etc/phpMyAdmin/config.inc.php":            {"sensitive-exposed"},
			"var/lib/phpMyAdmin/config/config.inc.php": {"sensitive-exposed"},
			"etc/roundcubemail/config.inc.php":         {"sensitive-exposed"},
			// The package's own link to it, from the tree Apache serves, names link and target.
			"usr/share/roundcubemail/config/config.inc.php": {"sensitive-exposed"},
			"var/lib/phpMyAdmin/temp":                       {"web-unwritable"},
		})
	})
}
