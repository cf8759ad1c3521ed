//go:build cgo

package gpumon

const cgoEnabled = true
