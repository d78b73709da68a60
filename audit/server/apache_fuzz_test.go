package server

import (
	"bytes"
	"testing"

	"github.com/spf13/afero"
)

// FuzzParseApache reads arbitrary bytes as Debian's apache2.conf, with what follows a NUL byte
// as its envvars and what follows a second one as /etc/apache2/inc.conf: it must never panic,
// every directive must name its file and a line, and every warning a file.
func FuzzParseApache(f *testing.F) {
	f.Add([]byte("Include inc.conf\nUser ${APACHE_RUN_USER}\n\x00export APACHE_RUN_USER=www-data\n\x00<VirtualHost *:80>\nDocumentRoot /srv\n</VirtualHost>\n"))
	f.Add([]byte("<IfModule !mod_foo.c>\n<IfVersion >= 2.4>\nDefine X y\n</IfVersion>\n</IfModule>\nA ${X} \"q\\\"uoted\" 'single'\\\n continued\n"))
	f.Add([]byte("<Directory /srv>\n<Files x>\n</Directory>\n</Files>\n<If \"true\">\n</If>\n<Else>\nIncludeOptional /etc/*/*.conf\n"))
	f.Add([]byte("Listen 80\nListen [::1]:8080\n<VirtualHost [::1]:80 *>\nServerName https://a:1\n<FilesMatch \\.php$>\nSetHandler proxy:unix:/s|fcgi://x\n</FilesMatch>\nOptions +Indexes\n</VirtualHost>\n\x00if [ x ]; then\nSUFFIX=-x\nfi\nexport A=\"$SUFFIX${B:-c}\"'d'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parts := bytes.SplitN(data, []byte{0}, 3)
		fsys := afero.NewMemMapFs()
		names := []string{debMain, "/etc/apache2/envvars", "/etc/apache2/inc.conf"}
		for i, p := range parts {
			if err := afero.WriteFile(fsys, names[i], p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cfg, warnings := ReadApache(fsys, "/")
		if cfg == nil {
			t.Fatal("the main file exists, yet nothing was read")
		}
		for _, w := range warnings {
			if w.File == "" || w.Msg == "" {
				t.Errorf("warning without a file or a message: %+v", w)
			}
		}
		var check func(d *Directive, depth int)
		check = func(d *Directive, depth int) {
			if depth > apacheMaxNesting+1 {
				t.Fatalf("tree deeper than %d", apacheMaxNesting)
			}
			for _, c := range d.Children {
				if c.Pos.File == "" || c.Pos.Line < 1 {
					t.Errorf("directive %q without a file:line: %v", c.Name, c.Pos)
				}
				check(c, depth+1)
			}
		}
		check(cfg.Root, 0)
		for _, s := range cfg.Sites {
			if s.Pos.File == "" || s.Server != Apache {
				t.Errorf("site without a position: %+v", s)
			}
		}
	})
}
