package server

import (
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// FuzzParseFPM reads any bytes as a main file and as a pool file: no panic, every warning and
// directive names a line of the file that holds it, and every pool has a name and a position.
func FuzzParseFPM(f *testing.F) {
	f.Add([]byte("[global]\ninclude=/etc/php-fpm.d/*.conf\n"))
	f.Add([]byte("[www]\nuser = www-data\nlisten = /run/php/$pool.sock\nlisten.owner = \"www-data\"\nphp_admin_value[open_basedir] = '/var/www'\n"))
	f.Add([]byte("[bad\nuser\nlisten = \"x\n[ odd ] junk\nx = ${HOME}|1\r\n=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		dirs, warns := ParseFPM("f.conf", data)
		for _, d := range dirs {
			if d.Pos.File != "f.conf" || d.Pos.Line < 1 || d.Pos.Line > lines {
				t.Fatalf("directive at %v of %d lines", d.Pos, lines)
			}
		}
		for _, w := range warns {
			if w.Pos.Line < 1 || w.Pos.Line > lines || w.Msg == "" {
				t.Fatalf("warning %v of %d lines", w, lines)
			}
		}
		fsys := afero.NewMemMapFs()
		for _, p := range []string{"/etc/php-fpm.conf", "/etc/php-fpm.d/www.conf"} {
			if err := afero.WriteFile(fsys, p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		pools, _ := ReadFPM(fsys, "/")
		for _, p := range pools {
			if p.Pos.File == "" || p.Pos.Line < 1 {
				t.Fatalf("pool %+v has no position", p)
			}
			MatchPool(pools, p.Listen)
		}
	})
}
