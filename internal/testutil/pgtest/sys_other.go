//go:build !linux

package pgtest

import (
	"os"
	"os/exec"
)

// sigFastShutdown asks postgres for a fast shutdown.
var sigFastShutdown os.Signal = os.Interrupt

// runner runs the PostgreSQL programs as ourselves.
type runner struct{}

func runAs() (runner, string, error) {
	if os.Geteuid() == 0 {
		return runner{}, "PostgreSQL refuses to run as root, and pgtest switches user only on Linux", nil
	}
	return runner{}, "", nil
}

func (runner) command(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func (runner) own(string) error { return nil }

// setParentDeathSignal is a no-op: only Linux has parent-death signals. Use
// pgtest.Main so the server stops after the tests.
func setParentDeathSignal(*exec.Cmd) {}

func signalProcess(p *os.Process, sig os.Signal) error { return p.Signal(sig) }

// processAlive answers true: without a portable probe, never sweep.
func processAlive(int) bool { return true }

func isPostmasterOf(int, string) bool { return false }
