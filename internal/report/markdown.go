package report

import "strings"

// Markdown renders t as a Markdown table (GitHub's pipe syntax), the same
// cells [WriteHTML] shows, so the two renderers of a report cannot drift:
// a column whose cells all read as numbers is right aligned, as on the
// page. Pipes and newlines in cells are escaped. The caption, if any, is
// not written: a Markdown report titles its tables itself.
func (t Table) Markdown() string {
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(strings.ReplaceAll(c, "|", `\|`), "\n", " ") + " |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString("|")
	for i := range t.Header {
		if t.right(i) {
			b.WriteString("--:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
	return b.String()
}

// right reports whether column i is right aligned.
func (t Table) right(i int) bool {
	if t.Align != "" {
		return i < len(t.Align) && t.Align[i] == 'r'
	}
	return i > 0 && t.numericColumn(i)
}

// numericColumn reports whether every row's cell i reads as a number.
func (t Table) numericColumn(i int) bool {
	if len(t.Rows) == 0 {
		return false
	}
	for _, r := range t.Rows {
		if i < len(r) && !numeric(r[i]) {
			return false
		}
	}
	return true
}
