package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// EnvID is the key id given to a key in DBIAM_MASTER_KEY written without an id.
const EnvID = "env"

// maxFileSize bounds what LoadFile reads; a key file is a few lines.
const maxFileSize = 1 << 20

// fileHeader starts every file written by GenerateFile.
const fileHeader = `# dbiam master keys: one key per line, "<id> <base64 of 32 bytes>".
# The first key is the primary (used to seal); the others only open older values.
# Keep this file secret (mode 0600) and back it up: without it sealed data is lost.
`

// LoadFile reads a master key file: one key per line, "<id> <base64 of 32
// bytes>", the first key being the primary. Lines starting with '#' and
// blank lines are ignored. It refuses a file that group or other may read or
// write (mode & 0o077 != 0), and reports bad lines by number without ever
// echoing key material.
func LoadFile(path string) (*Keyring, error) {
	text, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := parseKeys(text, false)
	if err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", path, err)
	}
	return k, nil
}

// ParseKeys parses master keys from text, typically the DBIAM_MASTER_KEY
// environment variable: either "<id> <base64>" or just "<base64>" (the key
// id is then EnvID). Several keys may be given on separate lines, primary
// first, in the key file format.
func ParseKeys(text string) (*Keyring, error) {
	k, err := parseKeys(text, true)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return k, nil
}

func readKeyFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("keyring: open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("keyring: stat key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("keyring: %s: not a regular file", path)
	}
	if err := checkPerm(path, fi.Mode()); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return "", fmt.Errorf("keyring: read key file: %w", err)
	}
	if len(b) > maxFileSize {
		return "", fmt.Errorf("keyring: %s: larger than %d bytes, not a key file", path, maxFileSize)
	}
	return string(b), nil
}

func checkPerm(path string, mode fs.FileMode) error {
	if runtime.GOOS == "windows" { // no Unix permission bits to check
		return nil
	}
	if perm := mode.Perm(); perm&0o077 != 0 {
		return fmt.Errorf("keyring: %s has mode %#o: a master key file must not be accessible by group or other; run chmod 600 %s", path, perm, path)
	}
	return nil
}

// parseKeys parses the key file format. allowBare admits lines holding only
// the base64 key (id EnvID).
func parseKeys(text string, allowBare bool) (*Keyring, error) {
	var keys []Key
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		var id, b64 string
		switch {
		case len(fields) == 2:
			id, b64 = fields[0], fields[1]
		case len(fields) == 1 && allowBare:
			id, b64 = EnvID, fields[0]
		case len(fields) == 1:
			return nil, fmt.Errorf("line %d: want \"<id> <base64 key>\", found one field", n)
		default:
			return nil, fmt.Errorf("line %d: want \"<id> <base64 key>\", found %d fields", n, len(fields))
		}
		if !ValidID(id) {
			// The id field may be key material pasted in the wrong place: do not echo it.
			return nil, fmt.Errorf("line %d: invalid key id: want 1-%d characters of A-Z a-z 0-9 _ -", n, MaxIDLen)
		}
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("line %d: duplicate key id %q (first on line %d)", n, id, prev)
		}
		seen[id] = n
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			// err may quote an offset but never the data; still, keep it out.
			return nil, fmt.Errorf("line %d: key %q: not valid standard base64", n, id)
		}
		if len(raw) != KeySize {
			clear(raw)
			return nil, fmt.Errorf("line %d: key %q: decodes to %d bytes, want %d", n, id, len(raw), KeySize)
		}
		k := Key{ID: id}
		copy(k.Secret[:], raw)
		clear(raw)
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys found")
	}
	return New(keys[0], keys[1:]...)
}

// formatKey renders one key file line.
func formatKey(k Key) string {
	return k.ID + " " + base64.StdEncoding.EncodeToString(k.Secret[:]) + "\n"
}

// dateID is the id GenerateFile and RotateFile give a new key: "k" + the
// UTC date, with "-2", "-3", ... appended while the id is taken.
func dateID(now time.Time, taken func(string) bool) (string, error) {
	base := "k" + now.UTC().Format("20060102")
	id := base
	for i := 2; taken(id); i++ {
		if i > 1000 {
			return "", errors.New("keyring: too many keys generated on one day")
		}
		id = base + "-" + strconv.Itoa(i)
	}
	return id, nil
}

// GenerateFile creates a new key file at path holding one fresh key with id
// "k" + the UTC date of now (e.g. "k20260101"), read from rnd (crypto/rand
// when nil). The file is created with mode 0600 and O_EXCL: it fails if path
// exists. Missing parent directories are created with mode 0700.
func GenerateFile(path string, rnd io.Reader, now time.Time) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	id, err := dateID(now, func(string) bool { return false })
	if err != nil {
		return err
	}
	key, err := GenerateKey(rnd, id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keyring: create key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keyring: create key file: %w", err)
	}
	if err := writeAndSync(f, fileHeader+formatKey(key)); err != nil {
		os.Remove(path)
		return fmt.Errorf("keyring: write key file: %w", err)
	}
	return nil
}

// RotateFile adds a fresh primary key to the key file at path, keeping every
// existing key (and comment) so values sealed under them still open. The new
// key line goes before the first existing key. The file is replaced
// atomically (temporary file in the same directory, fsync, rename) with mode
// 0600. It returns the new key's id ("k" + the UTC date of now, suffixed
// "-2", "-3", ... if taken). Concurrent rotations of the same file are not
// coordinated: run one at a time.
func RotateFile(path string, rnd io.Reader, now time.Time) (newID string, err error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	text, err := readKeyFile(path)
	if err != nil {
		return "", err
	}
	ring, err := parseKeys(text, false)
	if err != nil {
		return "", fmt.Errorf("keyring: %s: %w", path, err)
	}
	id, err := dateID(now, ring.Has)
	if err != nil {
		return "", err
	}
	key, err := GenerateKey(rnd, id)
	if err != nil {
		return "", err
	}

	// Insert the new line before the first key line, keeping the header.
	lines := strings.SplitAfter(text, "\n")
	var out strings.Builder
	inserted := false
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if !inserted && t != "" && !strings.HasPrefix(t, "#") {
			out.WriteString(formatKey(key))
			inserted = true
		}
		out.WriteString(line)
	}
	if !strings.HasSuffix(out.String(), "\n") {
		out.WriteString("\n")
	}

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("keyring: rotate: create temporary file: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return "", fmt.Errorf("keyring: rotate: chmod temporary file: %w", err)
	}
	if err := writeAndSync(tmp, out.String()); err != nil {
		return "", fmt.Errorf("keyring: rotate: write temporary file: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return "", fmt.Errorf("keyring: rotate: replace key file: %w", err)
	}
	syncDir(dir)
	return id, nil
}

// writeAndSync writes s to f, syncs and closes it.
func writeAndSync(f *os.File, s string) error {
	b := []byte(s)
	defer clear(b)
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	return errors.Join(werr, serr, cerr)
}

// syncDir makes a rename durable where the platform allows it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
