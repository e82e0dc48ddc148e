package sqlbase

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/store"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int    // from the file name: 0001_init.sql -> 1
	Name    string // the file name
	SQL     string
}

// LoadMigrations reads dir/*.sql from fsys. File names must look like
// NNNN_description.sql; versions must be unique and start at 1 without gaps.
// The result is sorted by version.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("load migrations: bad file name %q (want NNNN_name.sql)", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load migrations: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("load migrations: %s: version %d, want %d (duplicate or gap)", m.Name, m.Version, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("load migrations: none in %q", dir)
	}
	return ms, nil
}

// NameKey is the unique key of a case-insensitive name.
func NameKey(name string) string { return strings.ToLower(name) }

// EncodeTags encodes tags as a JSON object ("{}" when empty).
func EncodeTags(tags map[string]string) (string, error) {
	if len(tags) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return "", fmt.Errorf("encode tags: %w", err)
	}
	return string(b), nil
}

// DecodeTags decodes what EncodeTags produced; no tags give nil.
func DecodeTags(s string) (map[string]string, error) {
	var tags map[string]string
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// Time normalizes t the way the stores keep it: UTC, truncated to the
// microsecond.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CheckKeyUpdate verifies that an access key updater changed only what it
// may change (SealedSecret, Status, LastUsedAt).
func CheckKeyUpdate(old, updated store.AccessKey) error {
	switch {
	case updated.ID != old.ID:
		return fmt.Errorf("update access key %q: the ID cannot change", old.ID)
	case NameKey(updated.UserName) != NameKey(old.UserName):
		return fmt.Errorf("update access key %q: the user name cannot change", old.ID)
	case !Time(updated.CreatedAt).Equal(Time(old.CreatedAt)):
		return fmt.Errorf("update access key %q: the creation time cannot change", old.ID)
	}
	return nil
}

// Secret returns b, or an empty non-nil slice for nil, so that a NOT NULL
// column accepts it.
func Secret(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
