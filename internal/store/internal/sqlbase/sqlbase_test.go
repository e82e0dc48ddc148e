package sqlbase

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dbiam/dbiam/internal/store"
)

func TestLoadMigrations(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr bool
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": sql, "m/0001_a.sql": sql, "m/README": sql}, []int{1, 2}, false},
		{"gap", fstest.MapFS{"m/0001_a.sql": sql, "m/0003_c.sql": sql}, nil, true},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": sql, "m/001_b.sql": sql}, nil, true},
		{"bad name", fstest.MapFS{"m/init.sql": sql}, nil, true},
		{"zero", fstest.MapFS{"m/0000_a.sql": sql}, nil, true},
		{"empty", fstest.MapFS{"m/README": sql}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := LoadMigrations(tc.files, "m")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("versions = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("versions = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestTags(t *testing.T) {
	for _, tags := range []map[string]string{nil, {}, {"a": "b", "": ""}} {
		s, err := EncodeTags(tags)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeTags(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tags) || (len(tags) == 0 && got != nil) {
			t.Errorf("round trip of %v gave %v", tags, got)
		}
	}
}

func TestCheckKeyUpdate(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 1500, time.UTC)
	old := store.AccessKey{ID: "AKIA1", UserName: "Alice", CreatedAt: at}
	ok := old
	ok.UserName = "ALICE"
	ok.CreatedAt = at.Add(100) // same microsecond
	ok.Status = store.StatusInactive
	if err := CheckKeyUpdate(old, ok); err != nil {
		t.Errorf("allowed change refused: %v", err)
	}
	for name, k := range map[string]store.AccessKey{
		"id":      {ID: "AKIA2", UserName: "Alice", CreatedAt: at},
		"user":    {ID: "AKIA1", UserName: "bob", CreatedAt: at},
		"created": {ID: "AKIA1", UserName: "Alice", CreatedAt: at.Add(time.Microsecond)},
	} {
		if CheckKeyUpdate(old, k) == nil {
			t.Errorf("change of %s allowed", name)
		}
	}
}

func TestVersionID(t *testing.T) {
	for _, n := range []int{1, 2, 9, 10, 123, 999999999} {
		id := VersionID(n)
		if got, ok := ParseVersionID(id); !ok || got != n {
			t.Errorf("ParseVersionID(VersionID(%d) = %q) = %d, %v", n, id, got, ok)
		}
	}
	for _, id := range []string{"", "v", "v0", "V1", "v01", "1", "v1x", "v-1", "v+1", "v 1", " v1", "v1000000000", "v99999999999999999999", "v١"} {
		if n, ok := ParseVersionID(id); ok {
			t.Errorf("ParseVersionID(%q) = %d, true; want not a version id", id, n)
		}
	}
}

func TestOwnerOf(t *testing.T) {
	for kind, want := range map[store.PrincipalKind]Owner{
		store.KindUser:  {store.KindUser, "users", "user_key"},
		store.KindGroup: {store.KindGroup, "groups", "group_key"},
		store.KindRole:  {store.KindRole, "roles", "role_key"},
	} {
		if got, err := OwnerOf(kind); err != nil || got != want {
			t.Errorf("OwnerOf(%q) = %+v, %v", kind, got, err)
		}
	}
	for _, kind := range []store.PrincipalKind{"", "User", "users", "user; --"} {
		if _, err := OwnerOf(kind); err == nil {
			t.Errorf("OwnerOf(%q) succeeded", kind)
		}
	}
}

func TestEffectiveRow(t *testing.T) {
	tests := []struct {
		name          string
		kind          store.PrincipalKind
		part, managed int
		version       int
		want          string
	}{
		{"own inline", store.KindUser, 1, 0, 0, "user/alice/inline/ReadOnly"},
		{"own managed", store.KindRole, 1, 1, 2, "role/alice/managed/ReadOnly@v2"},
		{"group inline", store.KindUser, 2, 0, 0, "group/alice/inline/ReadOnly"},
		{"group managed", store.KindUser, 2, 1, 12, "group/alice/managed/ReadOnly@v12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := EffectiveRow(tc.kind, tc.part, "alice", tc.managed, "ReadOnly", tc.version, "{}")
			if e.Source != tc.want {
				t.Errorf("Source = %q, want %q", e.Source, tc.want)
			}
			if e.Managed != (tc.managed == 1) || (e.VersionID != "") != e.Managed || e.Document != "{}" || e.Owner != "alice" {
				t.Errorf("EffectiveRow = %+v", e)
			}
		})
	}
}

func TestDeleteConflict(t *testing.T) {
	causes := Causes([]bool{true, false, true}, []string{"access keys", "members", "inline policies"})
	err := DeleteConflict("user", "alice", causes)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("DeleteConflict = %v, want ErrConflict", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "access keys, inline policies") || strings.Contains(msg, "members") || !strings.Contains(msg, `"alice"`) {
		t.Errorf("DeleteConflict message = %q", msg)
	}
}
