package report

import (
	"bufio"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/policy"
)

// csvColumns are the CSV report's columns, in order; columns are only ever added at the end.
var csvColumns = []string{"rule", "severity", "path", "type", "mode", "owner", "group", "message", "fingerprint"}

// CSV writes one row per finding for a spreadsheet or a script, after a header row: the columns
// of csvColumns, quoted and ended by CRLF as RFC 4180 says. No cell holds a line break or any other control character, so a
// row is also one line. A path that holds a control character or invalid UTF-8, or begins with
// a double quote or a character a spreadsheet would take for a formula, is written Go-quoted
// ("/srv/a\nb.php", strconv.Unquote gives its exact bytes back); any other is written as it is,
// so a path cell that begins with " is quoted, any other is the path, and none has a ' added. Owners and groups are
// named as in the text report (numeric where the system has no name, "?" where the backend
// carries none). Any other cell that would begin with = + - @, a tab or a CR gets a ' before
// it, so no cell is ever run as a formula. The paths not read are not rows: the exit status and
// the other formats say the audit is incomplete.
//
// Against a baseline (opt.Baseline) the rows have one more column, baseline: "new" or "known"
// for the audit's findings, and after them a row per finding of the baseline the audit no longer
// has, as the baseline recorded it, "resolved". One table keeps one header for a script, and a
// filter on the last column gives any of the three lists; without a baseline the columns are
// what they always were.
func CSV(w io.Writer, r *audit.Report, opt Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	columns := csvColumns
	if opt.Baseline != nil {
		columns = append(slices.Clip(columns), "baseline")
	}
	if err := cw.Write(columns); err != nil {
		return err
	}
	row := make([]string, len(columns))
	write := func(f *audit.Finding, r *audit.Report, state string) error {
		e := &f.Entry
		owner, group := ownerNames(e, r.Accounts)
		row[0], row[1], row[2] = string(f.Rule), f.Severity.String(), csvPath(e.Path)
		row[3], row[4], row[5], row[6] = e.Type.String(), policy.OctalMode(e.Mode), owner, group
		row[7], row[8] = Visible(f.Message), r.Fingerprint(f)
		if len(row) > len(csvColumns) {
			row[len(csvColumns)] = state
		}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		return cw.Write(row)
	}
	err := r.EachFinding(func(i int, f *audit.Finding) error {
		return write(f, r, opt.Baseline.State(i))
	})
	if err != nil {
		return err
	}
	err = opt.Baseline.eachResolved(r, func(f *audit.Finding, base *audit.Report) error {
		return write(f, base, stateResolved)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// formulaStart are the characters that make a spreadsheet take a cell for a formula.
const formulaStart = "=+-@\t\r"

// csvPath is a path as a CSV cell carries it: Go-quoted where it holds what the cell could not
// show or a spreadsheet would run, or begins with the quote that marks a quoted path.
func csvPath(p string) string {
	if e := Escape(p); e != p || p == "" || !strings.ContainsAny(p[:1], `"`+formulaStart) {
		return e
	}
	return strconv.Quote(p)
}

// csvCell is s with a ' before it where a spreadsheet would take it for a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsAny(s[:1], formulaStart) {
		return "'" + s
	}
	return s
}
