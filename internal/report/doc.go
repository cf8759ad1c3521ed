// Package report is a small document model for tr117's reports and its
// HTML renderer: a [Doc] of [Section]s, each holding a question's verdicts,
// tables and figures together, written by [WriteHTML] as one self-contained
// page (inline CSS, figures as data: URIs or inline SVG, no script and no
// network fetch) that reads offline and prints.
//
// A package that has a report (the suite, the load command) maps its own
// report value to a Doc and calls WriteHTML; the page's look lives here
// once. Doc values are plain data: safe for concurrent reads, and
// WriteHTML may be called concurrently on the same Doc.
package report

import (
	"html/template"
	"strings"
)

// Doc is one report page.
type Doc struct {
	// Title heads the page and names it in the browser.
	Title string
	// Banner, when set, is shown prominently above everything (for
	// example: the results are simulated).
	Banner string
	// Setup lists facts about how the results were made (backend,
	// version, run counts), in order.
	Setup []Field
	// Notes are paragraphs under the setup (failed runs, say). Inline
	// Markdown (see [Inline]).
	Notes []string
	// Sections are the report's questions, in order.
	Sections []Section
	// Footer is a closing paragraph. Inline Markdown.
	Footer string
}

// Field is one labelled fact.
type Field struct {
	Name, Value string
}

// Section is one question of the report, or a part of one: its verdicts,
// tables and figures are shown together. ID is the element id of the
// section (unique in the page, for links and tests).
type Section struct {
	ID    string
	Title string
	// Question is the question the section answers, shown under its title.
	Question string
	// Paragraphs and Items are inline-Markdown prose: paragraphs, then
	// a bulleted list (the report's terms, say).
	Paragraphs []string
	Items      []string
	Verdicts   []Verdict
	Tables     []Table
	Figures    []Figure
	// Subsections are nested one level down (one per model, say).
	Subsections []Section
}

// Verdict is one answer in words, the number of runs behind it and its
// caveats.
type Verdict struct {
	Text     string
	N        int
	Warnings []string
}

// Table is a captioned table of text cells. The first column labels the
// row; cells of the others that read as numbers are right aligned.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
	// Align, when set, is each column's Markdown alignment, 'l' or 'r'
	// ("lrr"); when empty, Markdown right aligns the columns after the
	// first whose cells all read as numbers.
	Align string
}

// Figure is a plot: PNG bytes (embedded as a data: URI) or an SVG
// document (inlined as is: it must come from trusted code, such as a
// plotting library), with its alternative text and caption.
type Figure struct {
	Alt     string
	Caption string
	PNG     []byte
	SVG     []byte
}

// Inline converts the inline Markdown the reports use to HTML, escaping
// everything else: **strong**, *emphasis* and `code`. Unmatched markers
// are kept as text.
func Inline(md string) template.HTML {
	var b strings.Builder
	for len(md) > 0 {
		tag, marker := "", ""
		switch {
		case strings.HasPrefix(md, "**"):
			tag, marker = "strong", "**"
		case md[0] == '*':
			tag, marker = "em", "*"
		case md[0] == '`':
			tag, marker = "code", "`"
		}
		if tag != "" {
			if end := strings.Index(md[len(marker):], marker); end > 0 {
				inner := md[len(marker) : len(marker)+end]
				b.WriteString("<" + tag + ">")
				if tag == "code" {
					b.WriteString(template.HTMLEscapeString(inner))
				} else {
					b.WriteString(string(Inline(inner)))
				}
				b.WriteString("</" + tag + ">")
				md = md[2*len(marker)+end:]
				continue
			}
		}
		i := strings.IndexAny(md[1:], "*`") + 1
		if i == 0 {
			i = len(md)
		}
		b.WriteString(template.HTMLEscapeString(md[:i]))
		md = md[i:]
	}
	return template.HTML(b.String())
}
