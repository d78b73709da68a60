package policy

import "testing"

// TestRuleHelp checks that every rule of the catalog has a title and help, and that no help is
// kept for a rule the catalog lacks (one renamed in one place only).
func TestRuleHelp(t *testing.T) {
	for _, r := range Catalog {
		if r.Title() == "" || r.Help() == "" {
			t.Errorf("%s has no title or help: add it to ruleHelp", r.ID)
		}
	}
	for id := range ruleHelp {
		if _, ok := Lookup(id); !ok {
			t.Errorf("ruleHelp describes %s, which the catalog does not have", id)
		}
	}
}
