package sink_test

import (
	"fmt"
	"os"

	"tr117/sink"
)

// sample is a record type as a pathway would define it.
type sample struct {
	GPU   int
	Watts float64
}

func (sample) CSVHeader() []string { return []string{"index", "power.draw [W]"} }

func (s sample) AppendCSV(b []byte) []byte {
	b = sink.AppendInt(b, int64(s.GPU))
	b = append(b, ',')
	return sink.AppendFloat(b, s.Watts, 2)
}

func Example() {
	csv := sink.NewCSV[sample](os.Stdout)
	var mem sink.Memory[sample]
	out := sink.Tee[sample](csv, &mem)

	out.Write(sample{GPU: 0, Watts: 215.5})
	out.Write(sample{GPU: 1, Watts: nan()}) // not supported: an empty field, not 0
	csv.Close()
	fmt.Println(mem.Len(), "records kept in memory")
	// Output:
	// index,power.draw [W]
	// 0,215.50
	// 1,
	// 2 records kept in memory
}

func nan() float64 { var z float64; return z / z }
