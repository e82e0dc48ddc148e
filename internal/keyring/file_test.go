package keyring_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/keyring"
)

var day = time.Date(2026, 3, 14, 23, 30, 0, 0, time.UTC)

func b64(b byte, n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, n)) }

func writeFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // defeat the umask
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	content := "# comment\n\n  k2 " + b64(2, 32) + "  \n# older\nk1\t" + b64(1, 32) + "\n"
	ring, err := keyring.LoadFile(writeFile(t, content, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if ring.PrimaryID() != "k2" || strings.Join(ring.IDs(), ",") != "k2,k1" {
		t.Fatalf("primary %q ids %q", ring.PrimaryID(), ring.IDs())
	}
	// The loaded keys are the ones in the file.
	want := mustNew(t, testKey("k1", 1))
	sealed, _ := want.Seal([]byte("x"), nil)
	if got, err := ring.Open(sealed, nil); err != nil || string(got) != "x" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := keyring.LoadFile(writeFile(t, content, 0o400)); err != nil {
		t.Fatalf("mode 0400 refused: %v", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	secretB64 := b64(7, 32)
	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
		want    []string
	}{
		{"bad base64", "k1 " + b64(1, 32) + "\nk2 not*base64\n", 0o600, []string{"line 2", `"k2"`, "base64"}},
		{"short key", "k1 " + b64(1, 16) + "\n", 0o600, []string{"line 1", "16 bytes, want 32"}},
		{"long key", "\n\nk1 " + b64(1, 33) + "\n", 0o600, []string{"line 3", "33 bytes"}},
		{"duplicate id", "k1 " + b64(1, 32) + "\n#\nk1 " + b64(2, 32) + "\n", 0o600, []string{"line 3", "duplicate key id", "line 1"}},
		{"missing id", secretB64 + "\n", 0o600, []string{"line 1", "one field"}},
		{"three fields", "k1 " + b64(1, 32) + " extra\n", 0o600, []string{"line 1", "3 fields"}},
		{"bad id", "k!1 " + b64(1, 32) + "\n", 0o600, []string{"line 1", "invalid key id"}},
		{"empty", "# nothing\n\n", 0o600, []string{"no keys"}},
		{"group readable", "k1 " + b64(1, 32) + "\n", 0o640, []string{"0640", "chmod 600"}},
		{"world readable", "k1 " + b64(1, 32) + "\n", 0o644, []string{"0644", "group or other"}},
		{"group writable", "k1 " + b64(1, 32) + "\n", 0o620, []string{"0620"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tc.mode != 0o600 {
				t.Skip("no Unix permissions")
			}
			_, err := keyring.LoadFile(writeFile(t, tc.content, tc.mode))
			if err == nil {
				t.Fatal("LoadFile succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secretB64) || strings.Contains(err.Error(), b64(1, 32)) {
				t.Errorf("error leaks key material: %q", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := keyring.LoadFile(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		d := t.TempDir()
		os.Chmod(d, 0o700)
		if _, err := keyring.LoadFile(d); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestParseKeys(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		ids        string
	}{
		{"bare", b64(1, 32), "env"},
		{"bare with newline", b64(1, 32) + "\n", "env"},
		{"with id", "prod-1 " + b64(1, 32), "prod-1"},
		{"several", "k2 " + b64(2, 32) + "\nk1 " + b64(1, 32), "k2,k1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := keyring.ParseKeys(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ring.IDs(), ","); got != tc.ids {
				t.Fatalf("ids = %q, want %q", got, tc.ids)
			}
		})
	}
	for _, bad := range []string{"", "   ", "k1 " + b64(1, 31), b64(1, 32) + "\n" + b64(2, 32), "k1 %%%"} {
		if _, err := keyring.ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) succeeded", bad)
		}
	}
}

func TestGenerateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	path := filepath.Join(dir, "master.key")
	if err := keyring.GenerateFile(path, nil, day); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("file mode %#o, want 0600", perm)
		}
		di, _ := os.Stat(dir)
		if perm := di.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("dir mode %#o, want 0700", perm)
		}
	}
	ring, err := keyring.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if ring.PrimaryID() != "k20260314" {
		t.Errorf("PrimaryID = %q, want k20260314", ring.PrimaryID())
	}
	// O_EXCL: a second call fails and leaves the file alone.
	before, _ := os.ReadFile(path)
	err = keyring.GenerateFile(path, nil, day)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second GenerateFile: err = %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("second GenerateFile changed the file")
	}
}

func TestGenerateFileUsesRand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	if err := keyring.GenerateFile(path, bytes.NewReader(bytes.Repeat([]byte{9}, 32)), day); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "k20260314 "+b64(9, 32)+"\n") {
		t.Fatalf("file does not hold the expected key:\n%s", b)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	if err := keyring.GenerateFile(short, bytes.NewReader(make([]byte, 5)), day); err == nil {
		t.Fatal("GenerateFile with a short rand reader succeeded")
	}
	if _, err := os.Stat(short); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("failed GenerateFile left a file: %v", err)
	}
}

func TestRotateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	if err := keyring.GenerateFile(path, nil, day.AddDate(0, 0, -30)); err != nil {
		t.Fatal(err)
	}
	oldRing, err := keyring.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := oldRing.Seal([]byte("old"), []byte("aad"))

	id, err := keyring.RotateFile(path, nil, day)
	if err != nil {
		t.Fatal(err)
	}
	if id != "k20260314" {
		t.Errorf("new id %q, want k20260314", id)
	}
	// Same day again: a suffixed id.
	id2, err := keyring.RotateFile(path, nil, day)
	if err != nil {
		t.Fatal(err)
	}
	if id2 != "k20260314-2" {
		t.Errorf("second new id %q, want k20260314-2", id2)
	}
	ring, err := keyring.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(ring.IDs(), ","), "k20260314-2,k20260314,k20260212"; got != want {
		t.Fatalf("ids = %q, want %q", got, want)
	}
	if got, err := ring.Open(sealed, []byte("aad")); err != nil || string(got) != "old" {
		t.Fatalf("old value after rotation: %q, %v", got, err)
	}
	fresh, _ := ring.Seal([]byte("new"), nil)
	if kid, _ := keyring.KeyID(fresh); kid != id2 {
		t.Fatalf("new values sealed under %q, want %q", kid, id2)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "# dbiam master keys") {
		t.Errorf("header comment lost:\n%s", b)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode after rotate %#o, want 0600", perm)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("rotate left extra files: %v", entries)
	}
}

func TestRotateFileRefusesBadFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	content := "k1 " + b64(1, 32) + "\n"
	path := writeFile(t, content, 0o644)
	if _, err := keyring.RotateFile(path, nil, day); err == nil {
		t.Fatal("RotateFile accepted a world-readable file")
	}
	b, _ := os.ReadFile(path)
	if string(b) != content {
		t.Fatal("RotateFile changed a file it refused")
	}
	if _, err := keyring.RotateFile(filepath.Join(t.TempDir(), "missing"), nil, day); err == nil {
		t.Fatal("RotateFile of a missing file succeeded")
	}
}
