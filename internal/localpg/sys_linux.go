package localpg

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// sigFastShutdown asks postgres for a fast shutdown.
const sigFastShutdown = syscall.SIGINT

// runner runs the PostgreSQL programs, as the OS user "postgres" when we
// are root (PostgreSQL refuses to run as root).
type runner struct {
	cred   *syscall.Credential // nil: as ourselves
	groups []uint32            // cred's groups, primary and supplementary
}

func runAs() (runner, error) {
	if os.Geteuid() != 0 {
		return runner{}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return runner{}, &noOSUserError{fmt.Sprintf("running as root, and there is no OS user \"postgres\" to run PostgreSQL as (%v)", err)}
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return runner{}, fmt.Errorf("OS user postgres: %w", err)
	}
	r := runner{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, groups: []uint32{uint32(gid)}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && !slices.Contains(r.groups, uint32(g)) {
				r.groups = append(r.groups, uint32(g))
			}
		}
	}
	return r, nil
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

// reachable checks that the user the programs run as may search every
// existing directory from / down to dir.
func (r runner) reachable(dir string) error {
	if r.cred == nil {
		return nil
	}
	dir = filepath.Clean(dir)
	var paths []string
	for p := dir; ; p = filepath.Dir(p) {
		paths = append(paths, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	slices.Reverse(paths)
	for _, p := range paths {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				return nil // created later, by us, for the user
			}
			return fmt.Errorf("localpg: %s: %w", p, err)
		}
		var bit uint32
		switch {
		case st.Uid == r.cred.Uid:
			bit = 0o100
		case slices.Contains(r.groups, st.Gid):
			bit = 0o010
		default:
			bit = 0o001
		}
		if st.Mode&bit == 0 {
			return fmt.Errorf("%w: the OS user postgres may not enter %s (mode %s, owner uid %d)", ErrUnreachable, p,
				strings.TrimPrefix(os.FileMode(st.Mode&0o777).String(), "-"), st.Uid)
		}
	}
	return nil
}

// setParentDeathSignal makes the kernel send postgres SIGQUIT (immediate
// shutdown) when the thread that started it, and so our process, dies. The
// signal is set in the child after it switched user, so it survives the
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
