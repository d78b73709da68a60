package audit

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/audit/walk"
	"github.com/webperm/webperm/policy"
)

// DetectPreset chooses the presets for root from the markers policy.Markers lists: the first
// hosting panel found on the audited system (below sysroot) and the first application found in
// root, joined as cpanel+wordpress; "default" where none is found. evidence lists the markers,
// as found.
func DetectPreset(fsys afero.Fs, root, sysroot string) (preset string, evidence []string) {
	if sysroot == "" {
		sysroot = "/"
	}
	var host, app string
	for _, m := range policy.Markers {
		isHost := strings.HasPrefix(m.Path, "/")
		if (isHost && host != "") || (!isHost && app != "") {
			continue
		}
		found := markerFound(fsys, m, root, sysroot)
		if found == nil {
			continue
		}
		if isHost {
			host = m.Preset
		} else {
			app = m.Preset
		}
		evidence = append(evidence, found...)
	}
	if app == "" {
		if name, ok := packagedLayout(walk.SystemPath(root, sysroot)); ok {
			app = name
			evidence = append(evidence, root+" (a distribution package's tree for "+name+")")
		}
	}
	var parts []string
	for _, name := range []string{host, app} {
		if name != "" {
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return "default", nil
	}
	return strings.Join(parts, "+"), evidence
}

// markerFound returns the paths of marker m as found below root (a host's below sysroot), or nil
// where one of them is missing. The last part of each is not followed where it is a symlink.
func markerFound(fsys afero.Fs, m policy.Marker, root, sysroot string) []string {
	var found []string
	for _, rel := range m.Paths() {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if strings.HasPrefix(rel, "/") {
			p = filepath.Join(sysroot, rel)
		}
		if _, err := walk.Lstat(fsys, p); err != nil {
			return nil
		}
		found = append(found, p)
	}
	return found
}

// rpmAppNames are the names Fedora's and EPEL's packages give applications' trees where they
// are not the preset's: /usr/share/phpMyAdmin, /etc/roundcubemail.
var rpmAppNames = map[string]string{"phpMyAdmin": "phpmyadmin", "roundcubemail": "roundcube"}

// packagedLayout names the application preset whose distribution package lays out dir, a path on
// the audited system, as one of its trees: /usr/share/APP, /var/lib/APP, /etc/APP. It is the
// last resort of detection, for the trees no marker tells, such as Debian's /etc/wordpress,
// which holds only the site's config-HOST.php and an htaccess, or Fedora's /etc/phpMyAdmin.
func packagedLayout(dir string) (string, bool) {
	app := packagedApp(dir)
	if app == "" || !slices.Contains(appTreeDirs, strings.TrimSuffix(dir, app)) {
		return "", false
	}
	if preset, ok := rpmAppNames[app]; ok {
		app = preset
	}
	// An application's presets are those found by a path in its tree, not on the host.
	return app, slices.ContainsFunc(policy.Markers, func(m policy.Marker) bool {
		return m.Preset == app && !strings.HasPrefix(m.Path, "/")
	})
}
