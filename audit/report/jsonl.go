package report

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/policy"
)

// LinesSchema names the JSON lines report's version. Fields are only ever added to it.
const LinesSchema = "webperm/report-lines/v1"

// The records of a JSON lines report: each object's "record" says which it is, and the rest are
// the fields the JSON report gives the same thing.
type (
	jsonlHeader struct {
		Record string `json:"record"`
		jsonHead
	}
	jsonlFinding struct {
		Record string `json:"record"`
		jsonFinding
	}
	jsonlError struct {
		Record string `json:"record"`
		jsonError
	}
	jsonlSkip struct {
		Record string `json:"record"`
		jsonSkip
	}
	jsonlSummary struct {
		Record string `json:"record"`
		jsonSummary
		Complete bool `json:"complete"`
		// Baseline counts the findings against the baseline, where there is one (--baseline).
		Baseline *jsonBaseline `json:"baseline,omitempty"`
	}
)

// JSONLines writes the report as JSON lines of the webperm/report-lines/v1 schema, for log
// pipelines (Vector, Fluent Bit, Loki) and jq: one object per line, a "header" record first
// (the JSON report's fields before its summary), then a "finding" record per finding, an
// "error" record per path not read, a "skipped" record per directory not entered, and a
// "summary" record last. A pipeline that sees no summary knows the report was cut short. Strings
// never hold a raw line break (JSON escapes it), so a line is always one whole record.
//
// Against a baseline (opt.Baseline) each finding record says "baseline": "new" or "known", as the
// JSON report's findings do; a "resolved" record, in the JSON report's fields of a finding with
// "baseline": "resolved", follows the findings for each of the baseline's findings the audit no
// longer has; and the summary carries the counts (baseline: file, new, known, resolved).
func JSONLines(w io.Writer, r *audit.Report, opt Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonlHeader{"header", newJSONHead(r, LinesSchema)}); err != nil {
		return err
	}
	// The counts by severity come from the findings' own pass, not one more reading of a spool.
	counts := make(map[policy.Severity]int)
	err := r.EachFinding(func(i int, f *audit.Finding) error {
		counts[f.Severity]++
		jf := newJSONFinding(f, r)
		jf.Baseline = opt.Baseline.State(i)
		return enc.Encode(jsonlFinding{"finding", jf})
	})
	if err != nil {
		return err
	}
	err = opt.Baseline.eachResolvedJSON(r, func(_ *audit.Finding, jf jsonFinding) error {
		return enc.Encode(jsonlFinding{stateResolved, jf})
	})
	if err != nil {
		return err
	}
	for _, e := range r.Errors {
		if err := enc.Encode(jsonlError{"error", newJSONError(&e)}); err != nil {
			return err
		}
	}
	for _, s := range r.Skipped {
		if err := enc.Encode(jsonlSkip{"skipped", newJSONSkip(&s)}); err != nil {
			return err
		}
	}
	if err := enc.Encode(jsonlSummary{"summary", newJSONSummary(r, counts), r.Complete(), newJSONBaseline(opt.Baseline)}); err != nil {
		return err
	}
	return bw.Flush()
}
