package report

import "testing"

func TestTableMarkdown(t *testing.T) {
	tb := Table{Header: []string{"Model", "Condition", "Runs", "TTFT ms"}, Rows: [][]string{
		{"tiny", "default", "5", "12.5 / 30.1"},
		{"a|b", "-", "n/a", "[+0.1, +2.0]"},
	}}
	want := "| Model | Condition | Runs | TTFT ms |\n|---|---|--:|--:|\n| tiny | default | 5 | 12.5 / 30.1 |\n| a\\|b | - | n/a | [+0.1, +2.0] |\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
