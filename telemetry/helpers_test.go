package telemetry_test

import "time"

func msDur(n int) time.Duration { return time.Duration(n) * time.Millisecond }
