package audit

import (
	"path/filepath"
	"strings"

	"github.com/spf13/afero"
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
		p := filepath.Join(root, filepath.FromSlash(m.Path))
		if isHost {
			p = filepath.Join(sysroot, m.Path)
		}
		if _, err := lstat(fsys, p); err != nil {
			continue
		}
		if isHost {
			host = m.Preset
		} else {
			app = m.Preset
		}
		evidence = append(evidence, p)
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
