// Package sarifcheck holds webperm's SARIF reports to the SARIF 2.1.0 schema and to what code
// scanning relies on, for the tests of the writer and of the CLI.
package sarifcheck

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/webperm/webperm/internal/fixture"
)

// Schemas are the official SARIF 2.1.0 schema (draft-04) and its draft-07 rendering: see
// testdata/README.md for where each comes from.
//
//go:embed testdata/*.json
var schemaFiles embed.FS

// validate holds each document (argv after the schemas) to each schema (the first argv[1]
// arguments) with the validator the schema's $schema names (draft-04 for the official one), and
// prints each way one breaks one. It exits 3 where a schema itself is no valid schema.
const validate = `
import json, sys
import jsonschema
k = int(sys.argv[1])
failed = False
for name in sys.argv[2:2+k]:
    with open(name, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(name, "is not a valid schema:", e.message)
        sys.exit(3)
    v = cls(schema, format_checker=jsonschema.FormatChecker())
    for i, doc in enumerate(sys.argv[2+k:]):
        with open(doc, encoding="utf-8") as f:
            errors = sorted(v.iter_errors(json.load(f)), key=lambda e: list(map(str, e.absolute_path)))
        for e in errors[:20]:
            failed = True
            print("document %d, %s: /%s: %s" % (i, name.rsplit("/", 1)[-1], "/".join(map(str, e.absolute_path)), e.message[:300]))
sys.exit(1 if failed else 0)
`

// Validate fails tb unless every document is valid against both SARIF 2.1.0 schemas. It needs
// python3 and its jsonschema module (Debian's python3-jsonschema): without them it skips, or
// fails where CI sets WEBPERM_E2E_REQUIRED. One python3 checks them all, as its start takes
// longer than the checks.
func Validate(tb testing.TB, docs ...[]byte) {
	tb.Helper()
	if out := Errors(tb, SchemaNames(), docs...); out != "" {
		tb.Errorf("the SARIF report breaks the schema:\n%s", out)
	}
}

// SchemaNames lists the schemas Validate holds a document to.
func SchemaNames() []string {
	return []string{"sarif-schema-2.1.0.json", "sarif-schema-2.1.0-draft07.json"}
}

// Errors validates the documents against the named schemas and returns every way one breaks
// one, as the validator words it: nothing where all are valid.
func Errors(tb testing.TB, schemas []string, docs ...[]byte) string {
	tb.Helper()
	python := requirePython(tb)
	dir := tb.TempDir()
	args := []string{"-c", validate, strconv.Itoa(len(schemas))}
	write := func(name string, data []byte) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			tb.Fatal(err)
		}
		args = append(args, path)
	}
	for _, name := range schemas {
		text, err := schemaFiles.ReadFile("testdata/" + name)
		if err != nil {
			tb.Fatal(err)
		}
		write(name, text)
	}
	for i, doc := range docs {
		write(fmt.Sprintf("doc%d.sarif", i), doc)
	}
	out, err := exec.Command(python, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return string(out)
	}
	if err != nil {
		tb.Fatalf("python3 could not validate: %v\n%s", err, out)
	}
	return ""
}

// requirePython returns the path of a python3 that has the jsonschema module: the first on PATH,
// else the distribution's, /usr/bin/python3, where Debian's python3-jsonschema installs it (a
// python3 of pyenv or a virtualenv on PATH does not see the distribution's modules).
func requirePython(tb testing.TB) string {
	tb.Helper()
	var faults []string
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		python, err := exec.LookPath(name)
		if err != nil {
			faults = append(faults, err.Error())
			continue
		}
		out, err := exec.Command(python, "-c", "import jsonschema").CombinedOutput()
		if err == nil {
			return python
		}
		faults = append(faults, fmt.Sprintf("%s cannot import jsonschema: %v: %s", python, err, bytes.TrimSpace(out)))
	}
	fixture.Unavailable(tb, strings.Join(faults, "; ")+": apt-get install python3-jsonschema to validate SARIF reports")
	return ""
}

// Log is what Check reads of a SARIF report.
type Log struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID string `json:"id"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool     `json:"executionSuccessful"`
			Notifications       []Result `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		Results []Result `json:"results"`
	} `json:"runs"`
}

// Result is a result or a notification: where it is, and the path its properties give, as the
// JSON report gives a path.
type Result struct {
	RuleID    string `json:"ruleId"`
	RuleIndex *int   `json:"ruleIndex"`
	Level     string `json:"level"`
	Locations []struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI       string `json:"uri"`
				URIBaseID string `json:"uriBaseId"`
			} `json:"artifactLocation"`
		} `json:"physicalLocation"`
	} `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          struct {
		Path        string `json:"path"`
		PathBase64  string `json:"path_base64"`
		Fingerprint string `json:"fingerprint"`
	} `json:"properties"`
}

// Check parses doc and fails tb unless what code scanning relies on holds: every base URI is an
// absolute file URI that ends in '/'; no rule has two descriptors; every result's ruleIndex
// names the descriptor of its ruleId (a result of a rule without one has none), and its fingerprint is the JSON report's; every location, resolved against its base,
// is exactly the path (to the byte) its properties give. It returns the parsed log.
func Check(tb testing.TB, doc []byte) *Log {
	tb.Helper()
	var log Log
	if err := json.Unmarshal(doc, &log); err != nil {
		tb.Fatalf("the SARIF report is no JSON: %v", err)
	}
	if len(log.Runs) != 1 {
		tb.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := &log.Runs[0]
	bases := map[string]*url.URL{}
	for id, b := range run.OriginalURIBaseIDs {
		u, err := url.Parse(b.URI)
		if err != nil || u.Scheme != "file" || u.Host != "" || !strings.HasSuffix(u.Path, "/") {
			tb.Errorf("base %s is %q: want a file:/// URI ending in '/' (%v)", id, b.URI, err)
			continue
		}
		bases[id] = u
	}
	rules := run.Tool.Driver.Rules
	described := map[string]bool{}
	for _, r := range rules {
		if described[r.ID] {
			tb.Errorf("two descriptors of rule %s", r.ID)
		}
		described[r.ID] = true
	}
	for i, r := range run.Results {
		switch {
		case r.RuleIndex == nil && described[r.RuleID]:
			tb.Errorf("result %d (%s) has no ruleIndex, though its rule has a descriptor", i, r.RuleID)
		case r.RuleIndex == nil:
		case *r.RuleIndex < 0 || *r.RuleIndex >= len(rules):
			tb.Errorf("result %d (%s): ruleIndex %d, but there are %d rules", i, r.RuleID, *r.RuleIndex, len(rules))
		case rules[*r.RuleIndex].ID != r.RuleID:
			tb.Errorf("result %d: ruleId %s, but ruleIndex %d names %s", i, r.RuleID, *r.RuleIndex, rules[*r.RuleIndex].ID)
		}
		if fp := r.PartialFingerprints["webpermFingerprint/v1"]; fp == "" || fp != r.Properties.Fingerprint {
			tb.Errorf("result %d: partial fingerprint %q, the JSON report's %q", i, fp, r.Properties.Fingerprint)
		}
		checkPath(tb, fmt.Sprintf("result %d", i), &r, bases)
	}
	for _, inv := range run.Invocations {
		for i, n := range inv.Notifications {
			checkPath(tb, fmt.Sprintf("notification %d", i), &n, bases)
		}
	}
	return &log
}

// checkPath fails tb unless r's one location resolves to the path its properties give.
func checkPath(tb testing.TB, what string, r *Result, bases map[string]*url.URL) {
	tb.Helper()
	if len(r.Locations) != 1 {
		tb.Errorf("%s: %d locations, want 1", what, len(r.Locations))
		return
	}
	want := r.Properties.Path
	if r.Properties.PathBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(r.Properties.PathBase64)
		if err != nil {
			tb.Errorf("%s: path_base64: %v", what, err)
			return
		}
		want = string(b)
	}
	loc := r.Locations[0].PhysicalLocation.ArtifactLocation
	got, err := Resolve(loc.URI, loc.URIBaseID, bases)
	if err != nil {
		tb.Errorf("%s: %v", what, err)
	} else if got != want {
		tb.Errorf("%s: uri %q (base %s) is %q, want %q", what, loc.URI, loc.URIBaseID, got, want)
	}
}

// Resolve is the path uri names, relative to base (one of bases, by id) where base is not
// empty: percent-decoded, to the byte.
func Resolve(uri, base string, bases map[string]*url.URL) (string, error) {
	ref, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("uri %q: %v", uri, err)
	}
	if ref.Scheme != "" || ref.Host != "" || ref.RawQuery != "" || ref.Fragment != "" {
		return "", fmt.Errorf("uri %q is not a path alone: scheme %q, host %q, query %q, fragment %q", uri, ref.Scheme, ref.Host, ref.RawQuery, ref.Fragment)
	}
	if base == "" {
		return ref.Path, nil
	}
	b, ok := bases[base]
	if !ok {
		return "", fmt.Errorf("uri %q: base %q is not in originalUriBaseIds", uri, base)
	}
	p := b.ResolveReference(ref).Path
	if p != "/" {
		p = strings.TrimSuffix(p, "/") // "." is the base itself
	}
	return p, nil
}
