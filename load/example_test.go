package load_test

import (
	"fmt"
	"strings"

	"tr117/load"
)

// Two workers share one constant-rate schedule of 5 requests at 10 req/s:
// each sends its segment's requests at their offsets in the whole schedule.
func ExampleSegment() {
	offs, err := load.Schedule{Arrival: load.Constant, Rate: 10, Requests: 5}.Offsets()
	if err != nil {
		panic(err)
	}
	for i := range 2 {
		seg := load.Segment{Index: i, Count: 2}
		fmt.Printf("worker %s:", seg)
		for k, off := range offs {
			if seg.Owns(k) {
				fmt.Printf(" #%d@%v", k, off)
			}
		}
		fmt.Println()
	}
	// Output:
	// worker 0/2: #0@0s #2@200ms #4@400ms
	// worker 1/2: #1@100ms #3@300ms
}

func ExampleSLO_Good() {
	slo, err := load.ParseSLO("ttft:500ms,e2e:10s")
	if err != nil {
		panic(err)
	}
	ttft := 420.0
	fmt.Println(slo.Good(&load.Record{TTFTMS: &ttft, E2EMS: 9000}))
	fmt.Println(slo.Good(&load.Record{TTFTMS: &ttft, E2EMS: 12000}))
	// Output:
	// true
	// false
}

func ExampleReadDataset() {
	items, err := load.ReadDataset(strings.NewReader(`{"prompt": "Why is the sky blue?", "max_tokens": 64}
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}
`), "prompts.jsonl")
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		fmt.Printf("%q system=%q max_tokens=%d\n", it.Prompt, it.System, it.MaxTokens)
	}
	_, err = load.ReadDataset(strings.NewReader("{\"prompt\": \"ok\"}\n{\"prompt\": 3}\n"), "bad.jsonl")
	fmt.Println(err)
	// Output:
	// "Why is the sky blue?" system="" max_tokens=64
	// "Hi" system="Be brief." max_tokens=0
	// load: dataset bad.jsonl: line 2: not a JSON object: json: cannot unmarshal number into Go struct field datasetLine.prompt of type string
}
