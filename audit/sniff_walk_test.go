package audit

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/spf13/afero"
	"github.com/webperm/webperm/internal/fixture"
	"github.com/webperm/webperm/policy"
)

// openCounter records every file opened through Open: the walker lists directories with
// OpenFile, so what Open sees is what the audit read.
type openCounter struct {
	*fixture.MemFs
	mu     sync.Mutex
	opened []string
}

func (o *openCounter) Open(name string) (afero.File, error) {
	o.mu.Lock()
	o.opened = append(o.opened, name)
	o.mu.Unlock()
	return o.MemFs.Open(name)
}

// TestAuditSniffsOnlyCandidates: the audit reads the files a content condition names and no
// other, puts what they hold on their entries, and judges them by it.
func TestAuditSniffsOnlyCandidates(t *testing.T) {
	fsys := &openCounter{MemFs: fixture.NewMemFs()}
	root := fixture.Tree(t, fsys, `
d 0755 1000:1000 .
f 0644 1000:1000 index.php
f 0644 1000:1000 style.css
f 0644 1000:1000 readme.txt
f 0644 1000:1000 schema.sql
f 0644 1000:1000 wp-config.php
f 0644 1000:1000 dump.sql.gz
d 0755 1000:1000 sub
f 0644 1000:1000 sub/dump.sql
d 0755 1000:1000 sub/dir.sql
`)
	for name, fixtureName := range map[string]string{
		"schema.sql": "schema-seed.sql", "wp-config.php": "include-only-debian.php", "sub/dump.sql": "mysqldump.sql",
	} {
		if err := afero.WriteFile(fsys, filepath.Join(root, name), readFixture(t, fixtureName), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys.opened = nil
	rep := auditTree(t, fsys, root, 2)
	var opened []string
	for _, p := range fsys.opened {
		rel, _ := filepath.Rel(root, p)
		opened = append(opened, rel)
	}
	slices.Sort(opened)
	if want := []string{"schema.sql", "sub/dump.sql", "wp-config.php"}; !slices.Equal(opened, want) {
		t.Errorf("opened %v, want only %v", opened, want)
	}
	checkRules(t, rulesByRel(rep), map[string][]string{
		"dump.sql.gz":  {"sensitive-exposed"},
		"sub/dump.sql": {"sensitive-exposed"},
		// A directory is never read: named like a dump, it is held as one, as before.
		"sub/dir.sql": {"sensitive-exposed"},
	})
	for _, f := range rep.Findings {
		want := policy.ContentUnread
		if f.Entry.Rel == "sub/dump.sql" {
			want = policy.ContentSQLDump
		}
		if f.Entry.Content != want {
			t.Errorf("%s: content %v, want %v", f.Entry.Rel, f.Entry.Content, want)
		}
	}
}

// TestAuditUnreadableCandidateStaysSecret: a schema the audit cannot read is held as a dump.
func TestAuditUnreadableCandidateStaysSecret(t *testing.T) {
	mem := fixture.NewMemFs()
	root := fixture.Tree(t, mem, "d 0755 1000:1000 .\nf 0644 1000:1000 index.html\nf 0644 1000:1000 schema.sql\n")
	if err := afero.WriteFile(mem, filepath.Join(root, "schema.sql"), readFixture(t, "schema-seed.sql"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkRules(t, rulesByRel(auditTree(t, mem, root, 1)), map[string][]string{})
	denied := &denyOpenMem{MemFs: mem}
	checkRules(t, rulesByRel(auditTree(t, denied, root, 1)), map[string][]string{"schema.sql": {"sensitive-exposed"}})
}

// denyOpenMem is denyOpen keeping MemFs's owners and Lstat.
type denyOpenMem struct{ *fixture.MemFs }

func (d *denyOpenMem) Open(name string) (afero.File, error) { return (&denyOpen{}).Open(name) }
