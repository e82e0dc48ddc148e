package sqlbase

import (
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
