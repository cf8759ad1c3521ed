package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"unicode"
)

//go:embed report.html.tmpl
var pageTemplate string

// WriteHTML writes d to w as one self-contained HTML page. The text of d
// is escaped; only [Inline] Markdown and the figures' SVG become markup.
func WriteHTML(w io.Writer, d Doc) error {
	t, err := template.New("page").Funcs(template.FuncMap{
		"inline":  Inline,
		"numeric": numeric,
		"pngURI":  pngURI,
		"svg":     func(b []byte) template.HTML { return template.HTML(b) },
	}).Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("report: template: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return fmt.Errorf("report: %s: %w", d.Title, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// pngURI is a PNG as a data: URI, which html/template keeps in src only
// as a trusted URL.
func pngURI(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}

// numeric reports whether a table cell reads as a number ("12.5",
// "-3 / 4", "[+0.1, +2.0]", "n/a"), so its column can be right aligned.
func numeric(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || s == "n/a" {
		return true
	}
	digit := false
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			digit = true
		case strings.ContainsRune(" .,+-−–/±%[]()×<=", r):
		default:
			return false
		}
	}
	return digit
}
