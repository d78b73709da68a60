package policy

import (
	"embed"
	"fmt"
	"slices"
	"strings"
)

// presetFiles are the presets as the policy files `webperm policy init` writes, each value with
// its source cited beside it. Parsing them is the only way a preset is made, so a preset and the
// file that shows it cannot drift apart.
//
//go:embed presets/*.yaml
var presetFiles embed.FS

// Auto is the preset name that asks webperm to pick the presets from the audited tree and host.
const Auto = "auto"

// None is the preset of a policy file that stands alone: no rules come before its own. The
// default preset's file and 'webperm policy show' output say preset: none.
const None = "none"

// presetNames are the presets in the order help text lists them: the default, the applications,
// then the hosting panels.
var presetNames = []string{"default", "wordpress", "drupal", "laravel", "magento", "joomla", "phpmyadmin", "mediawiki", "dokuwiki", "roundcube", "nextcloud", "cpanel", "plesk"}

// Presets lists every preset's name.
func Presets() []string { return append([]string(nil), presetNames...) }

// PresetChoices lists what --preset accepts besides combinations: every preset, auto and none.
func PresetChoices() []string { return append(Presets(), Auto, None) }

// IsPreset reports whether name is one preset, several joined with + (cpanel+wordpress), or
// none.
func IsPreset(name string) bool {
	if name == None {
		return true
	}
	parts := strings.Split(name, "+")
	for _, part := range parts {
		// default inside a combination would undo the others: every preset builds on it.
		if !slices.Contains(presetNames, part) || (part == "default" && len(parts) > 1) {
			return false
		}
	}
	return name != ""
}

// PresetSource returns the commented policy file of one preset.
func PresetSource(name string) ([]byte, error) {
	if !slices.Contains(presetNames, name) {
		return nil, unknownPreset(name)
	}
	return presetFiles.ReadFile("presets/" + name + ".yaml")
}

func unknownPreset(name string) error {
	return fmt.Errorf("unknown preset %q (want %s, or several joined with +, such as cpanel+wordpress)", name, strings.Join(PresetChoices(), ", "))
}

// Preset returns the policy of a preset, or of several joined with +: the default's rules, then
// each one's own, in order, so a hosting panel's preset and an application's combine
// (cpanel+wordpress).
func Preset(name string) (*Policy, error) {
	if !IsPreset(name) {
		return nil, unknownPreset(name)
	}
	p := &Policy{Name: name}
	if name == None {
		return p, nil
	}
	for _, part := range strings.Split(name, "+") {
		own, err := presetOwn(part)
		if err != nil {
			return nil, err
		}
		if own.Base != None && len(p.Rules) == 0 {
			base, err := Preset(own.Base)
			if err != nil {
				return nil, err
			}
			p.Identities, p.Rules, p.Waivers = base.Identities, base.Rules, base.Waivers
		}
		merge(p, own)
	}
	return p, nil
}

// presetOwn parses one preset's file, without its base.
func presetOwn(name string) (*Policy, error) {
	src, err := PresetSource(name)
	if err != nil {
		return nil, err
	}
	return Parse(name+".yaml", src)
}

// merge appends file's identities, rules, waivers and exclusions to p's: a value file sets replaces p's.
func merge(p, file *Policy) {
	ids := &p.Identities
	for _, f := range []struct{ dst, src *string }{
		{&ids.WebUser, &file.Identities.WebUser},
		{&ids.WebGroup, &file.Identities.WebGroup},
		{&ids.PHPUser, &file.Identities.PHPUser},
	} {
		if *f.src != "" {
			*f.dst = *f.src
		}
	}
	if file.Identities.Owner != nil {
		ids.Owner = file.Identities.Owner
	}
	if file.Identities.Group != nil {
		ids.Group = file.Identities.Group
	}
	p.Rules = append(p.Rules, file.Rules...)
	p.Waivers = append(p.Waivers, file.Waivers...)
	p.Exclude = append(p.Exclude, file.Exclude...)
}

// Resolve returns the policy a file and a preset make together: the preset's rules, then the
// file's, so the file's rules win where both match. preset names the preset (not auto); the file
// may be nil.
func Resolve(preset string, file *Policy) (*Policy, error) {
	p, err := Preset(preset)
	if err != nil {
		return nil, err
	}
	if file == nil {
		return p, nil
	}
	p.Name = file.Name
	merge(p, file)
	return p, nil
}

// Default returns the default preset: the least-privilege policy webperm applies when nothing
// else is known of a site.
func Default() *Policy {
	p, err := Preset("default")
	if err != nil {
		panic("webperm: the embedded default preset is invalid: " + err.Error()) // caught by the package's tests
	}
	return p
}

// Marker is a file or directory whose presence says which preset fits; where And lists more, all
// of them must be there too, so that names common on their own (index.php, program/) say
// something together.
type Marker struct {
	Preset string
	Path   string // relative to the audited root, or absolute on the audited system for a host
	// And are further paths relative to the same root, each of which must exist as well.
	And []string
}

// Paths returns the marker's path and the further ones it needs, in order.
func (m Marker) Paths() []string { return append([]string{m.Path}, m.And...) }

// Markers are what auto looks for: the hosting panels first (absolute paths), then the
// applications (relative to the root). The first host and the first application found combine.
// An application has markers for its upstream layout and for the trees its Debian package
// splits it into (/usr/share/APP, /var/lib/APP, /etc/APP), none of them through a symlink, since
// in the packaged layouts most entries are links to another tree.
var Markers = []Marker{
	{Preset: "cpanel", Path: "/usr/local/cpanel"},
	{Preset: "plesk", Path: "/usr/local/psa"},
	{Preset: "wordpress", Path: "wp-includes/version.php"},
	// Debian's /var/lib/wordpress: the wp-content tree alone, with WordPress's own index.php in it.
	{Preset: "wordpress", Path: "wp-content/index.php", And: []string{"wp-content/plugins", "wp-content/themes"}},
	{Preset: "drupal", Path: "core/lib/Drupal.php"},
	{Preset: "magento", Path: "app/etc/env.php"},
	{Preset: "magento", Path: "bin/magento"},
	{Preset: "laravel", Path: "artisan"},
	// Joomla: the core's own extension manifest, there since 1.6.
	{Preset: "joomla", Path: "administrator/manifests/files/joomla.xml"},
	// phpMyAdmin: the sample configuration has sat beside index.php and libraries/ since 2.x;
	// Debian adds /var/lib/phpmyadmin (the blowfish secret its postinst writes, and tmp/) and
	// /etc/phpmyadmin (config.inc.php with its header and footer).
	{Preset: "phpmyadmin", Path: "config.sample.inc.php", And: []string{"index.php", "libraries"}},
	{Preset: "phpmyadmin", Path: "blowfish_secret.inc.php", And: []string{"tmp"}},
	{Preset: "phpmyadmin", Path: "config.header.inc.php", And: []string{"config.footer.inc.php", "config.inc.php"}},
	// MediaWiki: the web installer mw-config/ beside load.php and api.php (upstream since 1.17, and
	// Debian's /var/lib/mediawiki, where all three are links, looked at first so that no link is
	// followed); includes/DefaultSettings.php, or includes/MainConfigSchema.php from 1.39;
	// LocalSettings.php alone in /etc/mediawiki once the wiki is set up.
	{Preset: "mediawiki", Path: "mw-config", And: []string{"load.php", "api.php"}},
	{Preset: "mediawiki", Path: "includes/DefaultSettings.php"},
	{Preset: "mediawiki", Path: "includes/MainConfigSchema.php"},
	{Preset: "mediawiki", Path: "LocalSettings.php"},
	// DokuWiki: doku.php and inc/init.php (upstream and /usr/share/dokuwiki); the page store in
	// Debian's /var/lib/dokuwiki; the shipped configuration in conf/ or /etc/dokuwiki.
	{Preset: "dokuwiki", Path: "doku.php", And: []string{"inc/init.php"}},
	{Preset: "dokuwiki", Path: "data/pages", And: []string{"data/meta", "data/attic"}},
	{Preset: "dokuwiki", Path: "dokuwiki.php", And: []string{"acl.auth.php.dist"}},
	// Roundcube: program/ and SQL/ beside temp/ and skins/ (upstream, and Debian's
	// /var/lib/roundcube, where program/ and SQL/ are links); program/include/iniset.php
	// (/usr/share/roundcube, which has no temp/); the configuration in config/ or /etc/roundcube.
	{Preset: "roundcube", Path: "program", And: []string{"SQL", "temp", "skins"}},
	{Preset: "roundcube", Path: "program/include/iniset.php"},
	{Preset: "roundcube", Path: "defaults.inc.php", And: []string{"mimetypes.php"}},
	// Nextcloud: its command-line tool occ beside version.php and status.php, all three at the
	// top of every release archive. Laravel's artisan and the others' markers are not there.
	{Preset: "nextcloud", Path: "occ", And: []string{"version.php", "status.php"}},
}
