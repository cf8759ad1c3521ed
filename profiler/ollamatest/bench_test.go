package ollamatest

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkStream measures how fast an unpaced simulator streams a
// 256-token completion over loopback HTTP to a client that scans lines: the
// ceiling above which the simulator, not the client under test, is the
// bottleneck.
func BenchmarkStream(b *testing.B) {
	srv := NewServer(Config{Unpaced: true})
	defer srv.Close()
	const body = `{"model":"tiny","prompt":"p","options":{"num_predict":256}}`
	b.ReportAllocs()
	tokens := 0
	for b.Loop() {
		resp, err := http.Post(srv.URL+"/api/generate", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			tokens++
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "msgs/s")
}
