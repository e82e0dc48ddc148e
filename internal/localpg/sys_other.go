//go:build !linux

package localpg

import (
	"os"
	"os/exec"
)

// sigFastShutdown asks postgres for a fast shutdown.
var sigFastShutdown os.Signal = os.Interrupt

// runner runs the PostgreSQL programs as ourselves.
type runner struct{}

func runAs() (runner, error) {
	if os.Geteuid() == 0 {
		return runner{}, &noOSUserError{"PostgreSQL refuses to run as root, and it is run as another user only on Linux"}
	}
	return runner{}, nil
}

func (runner) command(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func (runner) own(string) error { return nil }

func (runner) reachable(string) error { return nil }

// setParentDeathSignal is a no-op: only Linux has parent-death signals.
// Call Stop before exiting.
func setParentDeathSignal(*exec.Cmd) {}

func signalProcess(p *os.Process, sig os.Signal) error { return p.Signal(sig) }

// processAlive answers true: without a portable probe, never sweep.
func processAlive(int) bool { return true }

func isPostmasterOf(int, string) bool { return false }
