package e2e

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestServersAnswer403ExactlyWherePredicted audits a docroot with webperm and asks a real nginx
// and a real Apache, both running as www-data, for every file in it: the files each answers 403
// for must be exactly those webperm's findings predict for it. The docroot's cases (tree) also say
// what each server should answer, so a webperm that predicts nothing fails by name, case by case,
// and a server that does not behave as the cases assume is told apart from a wrong prediction.
func TestServersAnswer403ExactlyWherePredicted(t *testing.T) {
	tl := requireEnvironment(t)
	uid := lookupUID(t, webUser)
	gids := map[string]int{"root": 0, webUser: lookupGID(t, webUser), testGroup: joinTestGroup(t, tl)}
	docroot := makeDocroot(t, tl, gids)
	bin := buildWebperm(t)
	rep := audit(t, bin, filepath.Join(docroot, "site"), filepath.Join(docroot, "home", "public_html"))
	files := regularFiles(t, docroot)
	if want := slices.Sorted(maps.Keys(treeFiles())); !slices.Equal(files, want) {
		t.Fatalf("the docroot holds files %v, but its cases list %v", files, want)
	}

	for i := range servers {
		s := &servers[i]
		t.Run(s.name, func(t *testing.T) {
			predicted := rep.forbidden(s, docroot, files)
			if len(predicted) == 0 {
				t.Errorf("webperm predicts no 403 from %s at all: no %s, %s or %s finding in the docroot", s.name, ruleUnreadable, ruleUntraversable, ruleHtaccess)
			}
			checkCases(t, s, "webperm predicts "+s.name+" answers", predicted)

			srv := s.start(t, tl, docroot)
			srv.requireServing(t, "site/index.html")
			srv.requireWorkersAs(t, uid, gids[webUser], gids[testGroup])
			// Without --web-user, webperm must find the same user in the running workers.
			if u := detectedWebUser(t, bin, filepath.Join(docroot, "site")); u.Name != webUser || u.Source != "process" || !strings.Contains(u.Evidence, "worker") {
				t.Errorf("webperm detected web user %+v while %s runs; want %s from its worker process", u, s.name, webUser)
			}
			answered := srv.answers(t, files)
			t.Logf("%s answered 403 for:\n\t%s", s.name, strings.Join(slices.Sorted(maps.Keys(answered)), "\n\t"))
			checkCases(t, s, s.name+" answers", answered)
			if len(answered) > 0 && !srv.errorLogHasMarker() {
				t.Errorf("%s answered 403, but its error log has none of %q, which show the file system refused\n%s", s.name, s.logMarkers, srv.logs())
			}
			if diff := setDiff(predicted, answered); diff != "" {
				t.Errorf("webperm's prediction differs from %s's answers:\n%s\n%s", s.name, diff, srv.logs())
			}
		})
	}
}

// checkCases reports each file whose status, by forbidden, is not what its case says s answers.
func checkCases(t *testing.T, s *server, who string, forbidden map[string]bool) {
	t.Helper()
	for _, n := range tree {
		if n.dir || n.link != "" {
			continue
		}
		got, want := 200, s.want(n.want)
		if forbidden[n.path] {
			got = 403
		}
		if got != want {
			t.Errorf("case %s: %s %d, want %d", n.path, who, got, want)
		}
	}
}

// setDiff describes how the predicted 403s differ from the answered ones; "" when they do not.
func setDiff(predicted, answered map[string]bool) string {
	var missed, unforeseen []string
	for p := range predicted {
		if !answered[p] {
			missed = append(missed, p)
		}
	}
	for p := range answered {
		if !predicted[p] {
			unforeseen = append(unforeseen, p)
		}
	}
	if len(missed)+len(unforeseen) == 0 {
		return ""
	}
	list := func(ps []string) string {
		if len(ps) == 0 {
			return "\t(none)"
		}
		slices.Sort(ps)
		return "\t" + strings.Join(ps, "\n\t")
	}
	return fmt.Sprintf("predicted 403, answered 200:\n%s\nanswered 403, not predicted:\n%s", list(missed), list(unforeseen))
}
