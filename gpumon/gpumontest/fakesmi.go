// Package gpumontest provides a stand-in for nvidia-smi's --query-gpu mode, for
// tests: a test binary re-executes itself as "nvidia-smi" (the
// TestHelperProcess pattern) and calls [FakeSMIMain].
//
// It answers like the real tool: one CSV line per GPU in the order of the
// --query-gpu fields, values separated by ", "; a header line that names
// each field as nvidia-smi does (aliases by their canonical name, such as
// clocks.sm as "clocks.current.sm [MHz]") with its unit in brackets, even
// with nounits, unless --format says noheader; units after values ("72.50
// W", "0 %") unless it says nounits; "[N/A]" and "[Not Supported]" for
// values a GPU lacks; `Field "X" is not a valid field to query.` and an
// empty line on stdout, exit code 2, for a field it does not know; with
// -lms N it repeats the query every N ms until killed; with no arguments,
// the banner of its summary view ("Driver Version: 550.54.15      CUDA
// Version: 12.4").
//
// Behaviour is set through environment variables:
//
//	FAKESMI_GPUS=n        number of GPUs (default 2; GPU 1 is a consumer card without power readings)
//	FAKESMI_NOLMS=1       refuse -lms, as some platforms do
//	FAKESMI_OLD=1         an old driver (470): rejects clocks_event_reasons.active, power.draw.instant,
//	                      compute_cap and memory.reserved
//	FAKESMI_DIE_AFTER=n   in -lms mode, exit with an error after n rounds
//	FAKESMI_LOST=1        GPU 0 answers "[GPU is lost]"-style errors
//	FAKESMI_SKIP=1        in -lms mode, the last GPU's line is left out of odd rounds
//	FAKESMI_GARBLE=1      in -lms mode, every value is "garbled" (a stream that does not parse)
package gpumontest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// FakeSMIEnv is the variable whose presence tells a test binary to act as
// nvidia-smi.
const FakeSMIEnv = "GPUMON_FAKE_SMI"

type field struct {
	unit string
	val  func(gpu, round int) string
}

// aliases are field names nvidia-smi accepts but prints in the header by
// their canonical name.
var aliases = map[string]string{
	"clocks.sm": "clocks.current.sm", "clocks.mem": "clocks.current.memory",
	"gpu_name": "name", "gpu_uuid": "uuid",
}

// newFields are what FAKESMI_OLD's driver 470 rejects.
var newFields = map[string]bool{
	"clocks_event_reasons.active": true, "power.draw.instant": true, "power.draw.average": true,
	"compute_cap": true, "memory.reserved": true,
}

// h100 picks GPU 0's value (an H100) or the other GPUs' (an RTX 4090).
func h100(g int, h, other string) string {
	if g == 0 {
		return h
	}
	return other
}

var fields = map[string]field{
	"timestamp": {"", func(int, int) string { return time.Now().Format("2006/01/02 15:04:05.000") }},
	"index":     {"", func(g, _ int) string { return strconv.Itoa(g) }},
	"uuid": {"", func(g, _ int) string {
		return fmt.Sprintf("GPU-%08x-1111-2222-3333-44445555666%d", 0xabc0+g, g)
	}},
	"name": {"", func(g, _ int) string {
		if g == 1 {
			return "NVIDIA GeForce RTX 4090"
		}
		return "NVIDIA H100 80GB HBM3"
	}},
	"power.draw": {"W", func(g, r int) string {
		if g == 1 {
			return "[N/A]"
		}
		return fmt.Sprintf("%.2f", 100+float64(r%10))
	}},
	"power.draw.instant":      {"W", func(g, r int) string { return fmt.Sprintf("%.2f", 101+float64(r%10)) }},
	"utilization.gpu":         {"%", func(g, r int) string { return strconv.Itoa((r*10 + g) % 101) }},
	"utilization.memory":      {"%", func(g, r int) string { return strconv.Itoa(r % 50) }},
	"memory.used":             {"MiB", func(g, r int) string { return strconv.Itoa(1000 + r) }},
	"memory.total":            {"MiB", func(g, _ int) string { return strconv.Itoa(81559 - g*57000) }},
	"clocks.sm":               {"MHz", func(int, int) string { return "1980" }},
	"clocks.current.sm":       {"MHz", func(int, int) string { return "1980" }},
	"clocks.mem":              {"MHz", func(int, int) string { return "2619" }},
	"clocks.current.memory":   {"MHz", func(int, int) string { return "2619" }},
	"gpu_name":                {"", func(g, _ int) string { return h100(g, "NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 4090") }},
	"driver_version":          {"", func(int, int) string { return "550.54.15" }},
	"pci.bus_id":              {"", func(g, _ int) string { return fmt.Sprintf("00000000:%02X:00.0", 0x18+g*0x20) }},
	"vbios_version":           {"", func(g, _ int) string { return h100(g, "96.00.74.00.01", "95.02.18.80.5F") }},
	"compute_cap":             {"", func(g, _ int) string { return h100(g, "9.0", "8.9") }},
	"memory.reserved":         {"MiB", func(g, _ int) string { return h100(g, "512", "333") }},
	"pcie.link.gen.current":   {"", func(g, _ int) string { return h100(g, "5", "1") }},
	"pcie.link.gen.max":       {"", func(g, _ int) string { return h100(g, "5", "4") }},
	"pcie.link.width.current": {"", func(int, int) string { return "16" }},
	"pcie.link.width.max":     {"", func(int, int) string { return "16" }},
	"enforced.power.limit":    {"W", func(g, _ int) string { return h100(g, "700.00", "450.00") }},
	"temperature.gpu":         {"", func(g, _ int) string { return strconv.Itoa(40 + g) }},
	"pstate":                  {"", func(int, int) string { return "P0" }},
	"clocks_throttle_reasons.active": {"", func(g, _ int) string {
		if g == 1 {
			return "[Not Supported]"
		}
		return "0x0000000000000004"
	}},
	"clocks_event_reasons.active": {"", func(int, int) string { return "0x0000000000000001" }},
}

// FakeSMIMain runs the fake with the given arguments (without the program name)
// and returns its exit code.
func FakeSMIMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, banner)
		return 0
	}
	query, format, lms, code := parseSMIArgs(args, stdout)
	if code != 0 {
		return code
	}
	names := strings.Split(query, ",")
	old := os.Getenv("FAKESMI_OLD") != ""
	for _, n := range names {
		if _, ok := fields[n]; !ok || old && newFields[n] {
			fmt.Fprintf(stdout, "Field \"%s\" is not a valid field to query.\n\n", n)
			return 2
		}
	}
	w := bufio.NewWriter(stdout)
	if !strings.Contains(format, "noheader") {
		writeSMIHeader(w, names, old)
	}
	return writeSMIRows(w, stderr, names, lms, strings.Contains(format, "nounits"))
}

// parseSMIArgs parses nvidia-smi's query arguments as nvidia-smi does;
// code is the exit code when they are wrong, 0 when they are good. lms is
// -1 without -lms.
func parseSMIArgs(args []string, stdout io.Writer) (query, format string, lms, code int) {
	const invalid = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n"
	lms = -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--query-gpu="):
			query = strings.TrimPrefix(a, "--query-gpu=")
		case strings.HasPrefix(a, "--format="):
			format = strings.TrimPrefix(a, "--format=")
		case a == "-lms" || a == "--loop-ms":
			if os.Getenv("FAKESMI_NOLMS") != "" {
				fmt.Fprint(stdout, invalid)
				return "", "", 0, 2
			}
			if i+1 >= len(args) {
				return "", "", 0, 2
			}
			n, err := strconv.Atoi(args[i+1])
			if err != nil || n <= 0 {
				return "", "", 0, 2
			}
			lms = n
			i++
		default:
			fmt.Fprint(stdout, invalid)
			return "", "", 0, 2
		}
	}
	if query == "" || !strings.HasPrefix(format, "csv") {
		fmt.Fprint(stdout, invalid)
		return "", "", 0, 2
	}
	return query, format, lms, 0
}

// writeSMIHeader writes the CSV header nvidia-smi writes for names.
func writeSMIHeader(w *bufio.Writer, names []string, old bool) {
	for i, n := range names {
		if i > 0 {
			w.WriteString(", ")
		}
		if n == "clocks_throttle_reasons.active" && !old {
			w.WriteString("clocks_event_reasons.active") // 535 renames it in the header
		} else if h := aliases[n]; h != "" {
			w.WriteString(h)
		} else {
			w.WriteString(n)
		}
		if u := fields[n].unit; u != "" {
			fmt.Fprintf(w, " [%s]", u)
		}
	}
	w.WriteString("\n")
}

// writeSMIRows writes one row per GPU, once, or every lms milliseconds
// until the writer fails (lms > 0), with the faults the FAKESMI_*
// variables ask for. It returns the exit code.
func writeSMIRows(w *bufio.Writer, stderr io.Writer, names []string, lms int, nounits bool) int {
	ngpu := 2
	if v, err := strconv.Atoi(os.Getenv("FAKESMI_GPUS")); err == nil {
		ngpu = v
	}
	dieAfter, _ := strconv.Atoi(os.Getenv("FAKESMI_DIE_AFTER"))
	lost := os.Getenv("FAKESMI_LOST") != ""
	skip := os.Getenv("FAKESMI_SKIP") != ""
	garble := os.Getenv("FAKESMI_GARBLE") != "" && lms > 0
	for round := 0; ; round++ {
		for g := range ngpu {
			if skip && lms > 0 && round%2 == 1 && g == ngpu-1 {
				continue
			}
			for i, n := range names {
				if i > 0 {
					w.WriteString(", ")
				}
				v := fields[n].val(g, round)
				if lost && g == 0 && n != "index" {
					v = "[GPU is lost]"
				}
				if garble {
					v = "garbled"
				}
				w.WriteString(v)
				if u := fields[n].unit; u != "" && !nounits && !strings.HasPrefix(v, "[") {
					w.WriteString(" " + u)
				}
			}
			w.WriteString("\n")
		}
		if err := w.Flush(); err != nil || lms < 0 {
			return 0
		}
		if dieAfter > 0 && round+1 >= dieAfter {
			fmt.Fprintln(stderr, "Unable to determine the device handle for GPU0000:01:00.0: Unknown Error")
			return 15
		}
		time.Sleep(time.Duration(lms) * time.Millisecond)
	}
}

// banner is the top of nvidia-smi's summary view (driver 550), which is
// where it prints the CUDA version.
const banner = `Thu Nov 26 12:00:00 2026       
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |
|                                         |                        |               MIG M. |
|=========================================+========================+======================|
`
