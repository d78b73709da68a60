package policy

import (
	"fmt"
	"strings"
)

// WritableRules are the rules --writable GLOB stands for, written after every other: the
// directories glob names, and everything below them, are where the web server or PHP writes, as a
// preset's writable: marks uploads and caches. There its group may write and it may own what it
// wrote, and PHP must be able to write the directories, so no fix takes write away from them.
// GLOB may end in / or /**, which say the same.
func WritableRules(globs []string) ([]Rule, error) {
	var rules []Rule
	yes, write := true, NeedWrite
	for _, g := range globs {
		base := strings.TrimSuffix(strings.TrimSuffix(g, "/**"), "/")
		if base == "" || !validGlob(base) || !validGlob(base+"/**") {
			return nil, fmt.Errorf("--writable %q: not a glob webperm can match: a directory relative to the root (wp-content/uploads) or a doublestar pattern (sites/*/files)", g)
		}
		origin := "--writable " + g
		rules = append(rules,
			Rule{Paths: []string{base, base + "/**"}, Writable: &yes, Origin: origin},
			Rule{Paths: []string{base + "/", base + "/**/"}, PHP: &write, Origin: origin},
		)
	}
	return rules, nil
}
