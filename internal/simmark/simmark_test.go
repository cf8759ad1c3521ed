package simmark_test

import (
	"net/http"
	"testing"

	"tr117/internal/simmark"
)

func TestIs(t *testing.T) {
	marked := http.Header{}
	marked.Set(simmark.Header, simmark.Name)
	for _, tc := range []struct {
		h       http.Header
		version string
		want    bool
	}{
		{http.Header{}, "0.6.5", false},
		{http.Header{}, "0.0.0", false},
		{nil, "", false},
		{marked, "0.6.5", true},
		{http.Header{}, "0.6.5" + simmark.VersionSuffix, true},
	} {
		if got := simmark.Is(tc.h, tc.version); got != tc.want {
			t.Errorf("Is(%v, %q) = %v, want %v", tc.h, tc.version, got, tc.want)
		}
	}
}
