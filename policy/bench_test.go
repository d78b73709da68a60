package policy

import (
	"fmt"
	"testing"
)

// wordpressPaths is a WordPress site as an audit meets it: core, plugins and themes deep in
// PHP, CSS and JavaScript, years of uploads, caches, and the few secrets and stray files the
// presets are there to catch. Each entry is a path relative to the root and whether it is a
// directory.
func wordpressPaths() []benchPath {
	var ps []benchPath
	add := func(rel string, dir bool) { ps = append(ps, benchPath{rel, dir}) }
	add(".", true)
	for _, f := range []string{"index.php", "wp-config.php", "wp-login.php", "wp-settings.php", "xmlrpc.php", ".htaccess", "license.txt", "readme.html", "wp-config-sample.php", "backup-2024.tar.gz", "error_log", ".env"} {
		add(f, false)
	}
	for _, top := range []string{"wp-admin", "wp-includes"} {
		add(top, true)
		for d := range 8 {
			dir := fmt.Sprintf("%s/sub%d", top, d)
			add(dir, true)
			for f := range 12 {
				add(fmt.Sprintf("%s/class-wp-thing-%d.php", dir, f), false)
				add(fmt.Sprintf("%s/js/script-%d.min.js", dir, f), false)
				add(fmt.Sprintf("%s/css/style-%d.css", dir, f), false)
			}
		}
	}
	add("wp-content", true)
	for _, kind := range []string{"plugins", "themes"} {
		add("wp-content/"+kind, true)
		for p := range 6 {
			dir := fmt.Sprintf("wp-content/%s/%s-%d", kind, kind, p)
			add(dir, true)
			for f := range 10 {
				add(fmt.Sprintf("%s/includes/file-%d.php", dir, f), false)
				add(fmt.Sprintf("%s/assets/images/icon-%d.png", dir, f), false)
				add(fmt.Sprintf("%s/languages/%s-de_DE-%d.mo", dir, kind, f), false)
			}
		}
	}
	add("wp-content/uploads", true)
	for y := 2019; y <= 2024; y++ {
		for m := 1; m <= 12; m++ {
			dir := fmt.Sprintf("wp-content/uploads/%d/%02d", y, m)
			add(dir, true)
			for f := range 4 {
				add(fmt.Sprintf("%s/photo-%d-1024x768.jpg", dir, f), false)
				add(fmt.Sprintf("%s/photo-%d.webp", dir, f), false)
			}
		}
	}
	add("wp-content/uploads/2024/05/shell.php", false)
	add("wp-content/cache", true)
	for f := range 20 {
		add(fmt.Sprintf("wp-content/cache/page/%d/index.html", f), false)
	}
	add("wp-content/debug.log", false)
	add(".git", true)
	add(".git/config", false)
	add(".git/objects/ab/cdef0123456789", false)
	return ps
}

type benchPath struct {
	rel string
	dir bool
}

// BenchmarkFor resolves the settings of every path of a WordPress site under the wordpress
// preset, as an audit does once per entry, and under the default preset and a hosting panel's
// combined with wordpress.
func BenchmarkFor(b *testing.B) {
	paths := wordpressPaths()
	abs := make([]string, len(paths))
	for i, e := range paths {
		abs[i] = "/home/alice/public_html/" + e.rel
	}
	for _, preset := range []string{"wordpress", "default", "cpanel+wordpress"} {
		p, err := Preset(preset)
		if err != nil {
			b.Fatal(err)
		}
		p.For("index.php", "", false) // compiled once, before any path is timed
		b.Run(preset, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i, e := range paths {
					p.For(e.rel, abs[i], e.dir)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/path")
		})
	}
}
