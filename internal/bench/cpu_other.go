//go:build !linux

package bench

// cpuMeter is nil where the CPU time of PostgreSQL cannot be read.
func cpuMeter(string) func() Usage { return nil }
