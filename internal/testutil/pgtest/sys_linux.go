package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// sigFastShutdown asks postgres for a fast shutdown.
const sigFastShutdown = syscall.SIGINT

// runner runs the PostgreSQL programs, as the OS user "postgres" when the
// tests run as root (PostgreSQL refuses to run as root).
type runner struct {
	cred *syscall.Credential // nil: as ourselves
}

func runAs() (runner, string, error) {
	if os.Geteuid() != 0 {
		return runner{}, "", nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return runner{}, fmt.Sprintf("running as root, and there is no OS user \"postgres\" to run PostgreSQL as (%v)", err), nil
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return runner{}, "", fmt.Errorf("OS user postgres: %w", err)
	}
	return runner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}, "", nil
}

func (r runner) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	return cmd
}

// own hands path to the user the programs run as.
func (r runner) own(path string) error {
	if r.cred == nil {
		return nil
	}
	return os.Chown(path, int(r.cred.Uid), int(r.cred.Gid))
}

// setParentDeathSignal makes the kernel send postgres SIGQUIT (immediate
// shutdown) when the thread that started it, and so the test binary, dies.
// The signal is set in the child after it switched user, so it survives the
// switch.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
}

func signalProcess(p *os.Process, sig os.Signal) error { return p.Signal(sig) }

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// isPostmasterOf reports whether pid runs postgres on the data directory.
func isPostmasterOf(pid int, data string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(b, []byte(data))
}
