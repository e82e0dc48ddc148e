package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/localpg"
)

func TestDevPostgresPath(t *testing.T) {
	parent, err := os.MkdirTemp("", "dbiam-devpath-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(parent) })
	dataDir := filepath.Join(parent, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dataDir, "postgres")
	if os.Geteuid() != 0 {
		if got, err := devPostgresPath(dataDir); err != nil || got != want {
			t.Errorf("devPostgresPath = %s, %v; want %s", got, err, want)
		}
		return
	}
	if err := localpg.CheckOSUser(); err != nil {
		t.Skip(err)
	}
	// Root: the parent (MkdirTemp: 0700) keeps the user postgres out.
	_, err = devPostgresPath(dataDir)
	if !errors.Is(err, localpg.ErrUnreachable) || !strings.Contains(err.Error(), parent) || !strings.Contains(err.Error(), "--data-dir") {
		t.Errorf("under a 0700 parent: %v, want ErrUnreachable naming %s and the advice", err, parent)
	}
	// A searchable parent: the data dir becomes searchable, not listable.
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := devPostgresPath(dataDir); err != nil || got != want {
		t.Errorf("devPostgresPath = %s, %v; want %s", got, err, want)
	}
	if fi, err := os.Stat(dataDir); err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("data dir mode %v, want 0711", fi.Mode().Perm())
	}
}
