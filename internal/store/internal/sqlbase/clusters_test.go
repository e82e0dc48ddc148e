package sqlbase

import (
	"slices"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/store"
)

func TestGroups(t *testing.T) {
	for _, groups := range [][]string{nil, {}, {"a"}, {"b", "a", "b"}, {`quo"te`, "ünï", ""}} {
		s, err := EncodeGroups(groups)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeGroups(s)
		if err != nil {
			t.Fatalf("DecodeGroups(%s): %v", s, err)
		}
		if !slices.Equal(got, groups) || (len(groups) == 0 && (got != nil || s != "[]")) {
			t.Errorf("%q -> %s -> %#v", groups, s, got)
		}
	}
	if _, err := DecodeGroups(`{"a":1}`); err == nil {
		t.Error("DecodeGroups accepted an object")
	}
}

func TestCheckCredentialUpdate(t *testing.T) {
	old := store.IssuedCredential{ID: "c", Cluster: "dev", LoginRole: "IAM:a:1", DbUser: "a",
		CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC), State: store.CredentialActive}
	ok := old
	ok.State, ok.Groups, ok.Attempts, ok.DbName = store.CredentialDropped, []string{"g"}, 3, "db"
	ok.CreatedAt = old.CreatedAt.Add(999 * time.Nanosecond).In(time.FixedZone("x", 3600)) // same microsecond
	if err := CheckCredentialUpdate(old, ok); err != nil {
		t.Errorf("allowed change refused: %v", err)
	}
	for name, change := range map[string]func(*store.IssuedCredential){
		"ID":        func(c *store.IssuedCredential) { c.ID = "d" },
		"Cluster":   func(c *store.IssuedCredential) { c.Cluster = "Dev" },
		"LoginRole": func(c *store.IssuedCredential) { c.LoginRole = "IAM:a:2" },
		"DbUser":    func(c *store.IssuedCredential) { c.DbUser = "A" },
		"CreatedAt": func(c *store.IssuedCredential) { c.CreatedAt = c.CreatedAt.Add(time.Microsecond) },
		"State":     func(c *store.IssuedCredential) { c.State = "Active" },
	} {
		c := old
		change(&c)
		if err := CheckCredentialUpdate(old, c); err == nil {
			t.Errorf("change of %s accepted", name)
		}
	}
	for _, st := range []string{store.CredentialIssuing, store.CredentialActive, store.CredentialRevoking, store.CredentialDropped, store.CredentialFailed} {
		if err := CheckCredentialState("c", st); err != nil {
			t.Errorf("state %q refused: %v", st, err)
		}
	}
	if err := CheckClusterUpdate(store.Cluster{Identifier: "dev"}, store.Cluster{Identifier: "DEV"}); err == nil {
		t.Error("identifier change accepted")
	}
	if err := CheckClusterUpdate(store.Cluster{Identifier: "dev"}, store.Cluster{Identifier: "dev", Port: 1}); err != nil {
		t.Errorf("port change refused: %v", err)
	}
}
