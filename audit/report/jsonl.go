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
	}
)

// JSONLines writes the report as JSON lines of the webperm/report-lines/v1 schema, for log
// pipelines (Vector, Fluent Bit, Loki) and jq: one object per line, a "header" record first
// (the JSON report's fields before its summary), then a "finding" record per finding, an
// "error" record per path not read, a "skipped" record per directory not entered, and a
// "summary" record last. A pipeline that sees no summary knows the report was cut short. Strings
// never hold a raw line break (JSON escapes it), so a line is always one whole record.
func JSONLines(w io.Writer, r *audit.Report, _ Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonlHeader{"header", newJSONHead(r, LinesSchema)}); err != nil {
		return err
	}
	// The counts by severity come from the findings' own pass, not one more reading of a spool.
	counts := make(map[policy.Severity]int)
	err := r.EachFinding(func(_ int, f *audit.Finding) error {
		counts[f.Severity]++
		return enc.Encode(jsonlFinding{"finding", newJSONFinding(f, r)})
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
	if err := enc.Encode(jsonlSummary{"summary", newJSONSummary(r, counts), r.Complete()}); err != nil {
		return err
	}
	return bw.Flush()
}
