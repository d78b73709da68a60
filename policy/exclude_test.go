package policy

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseExclude(t *testing.T) {
	doc := "version: 1\nexclude:\n  - cache/\n  - ./tmp\n  - \"*.log\"\n  - wp-content/uploads/**\n"
	p, err := Parse("site.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Exclusion{
		{Glob: "cache/", Origin: "site.yaml:3"},
		{Glob: "./tmp", Origin: "site.yaml:4"},
		{Glob: "*.log", Origin: "site.yaml:5"},
		{Glob: "wp-content/uploads/**", Origin: "site.yaml:6"},
	}
	if !reflect.DeepEqual(p.Exclude, want) {
		t.Errorf("exclude read as %+v, want %+v", p.Exclude, want)
	}
	one, err := Parse("site.yaml", []byte("version: 1\nexclude: cache\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Exclusion{{Glob: "cache", Origin: "site.yaml:2"}}; !reflect.DeepEqual(one.Exclude, want) {
		t.Errorf("a single exclude value read as %+v, want %+v", one.Exclude, want)
	}

	// The effective policy keeps them, and policy show writes them back as Parse reads them.
	resolved, err := Resolve("default", p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(resolved.Exclude, want) || !reflect.DeepEqual(resolved.With(Rule{}).Exclude, want) {
		t.Errorf("the resolved policy's exclusions are %+v, want the file's", resolved.Exclude)
	}
	out, err := Format(resolved, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `- "cache/" # from site.yaml:3`) {
		t.Errorf("Format does not write the exclusions with their origin:\n%s", out)
	}
	back, err := Parse("shown.yaml", out)
	if err != nil {
		t.Fatalf("Format's output does not parse: %v\n%s", err, out)
	}
	var globs []string
	for _, e := range back.Exclude {
		globs = append(globs, e.Glob)
	}
	if !reflect.DeepEqual(globs, []string{"cache/", "./tmp", "*.log", "wp-content/uploads/**"}) {
		t.Errorf("Format's exclusions read back as %q", globs)
	}
}

func TestParseExcludeErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  string
		want []fault
	}{
		{"invalid glob", "version: 1\nexclude:\n  - cache/\n  - \"wp-[content\"\n", []fault{{4, 5, "exclude[1]", `glob "wp-[content": not a glob webperm can match`, "globs relative to each root"}}},
		{"absolute glob", "version: 1\nexclude: [/var/www/cache]\n", []fault{{2, 11, "exclude[0]", `glob "/var/www/cache" is absolute`, ""}}},
		{"the root", "version: 1\nexclude: [.]\n", []fault{{2, 11, "exclude[0]", `glob ".": not a glob`, ""}}},
		{"a parent", "version: 1\nexclude:\n  - ../other\n", []fault{{3, 5, "exclude[0]", `glob "../other": not a glob`, ""}}},
		{"empty list", "version: 1\nexclude: []\n", []fault{{2, 10, "exclude", "empty list", ""}}},
		{"a mapping", "version: 1\nexclude:\n  cache: true\n", []fault{{3, 3, "exclude", "want a single value", ""}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("site.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse accepted\n%s\nas %+v", tt.doc, p)
			}
			checkFaults(t, err, tt.want)
		})
	}
}

func TestExcluder(t *testing.T) {
	x := NewExcluder([]Exclusion{{Glob: "cache/"}, {Glob: "./tmp"}, {Glob: "*.log"}, {Glob: "wp-content/uploads/**"}})
	for _, tt := range []struct {
		rel   string
		isDir bool
		want  bool
	}{
		{".", true, false}, // a root is never excluded
		{"cache", true, true},
		{"cache", false, false},   // cache/ names directories only
		{"a/b/cache", true, true}, // a name glob matches at any depth
		{"a/cachet", true, false},
		{"tmp", true, true},
		{"tmp", false, true},
		{"a/tmp", true, false}, // ./tmp is anchored at the root
		{"error.log", false, true},
		{"logs/old/error.log", false, true},
		{"error.log.gz", false, false},
		{"wp-content/uploads", true, true},
		{"wp-content/uploads/2024/a.jpg", false, true},
		{"wp-content/uploadsx", true, false},
		{"index.php", false, false},
	} {
		if got := x.Excludes(tt.rel, "/srv/www/"+tt.rel, tt.isDir); got != tt.want {
			t.Errorf("Excludes(%q, dir %v) = %v, want %v", tt.rel, tt.isDir, got, tt.want)
		}
	}
	var none *Excluder
	if NewExcluder(nil) != nil || none.Excludes("cache", "/srv/www/cache", true) {
		t.Error("no exclusions exclude something")
	}
}
