package identity

import (
	"bytes"
	"context"
	"testing"
)

func TestPrincipals(t *testing.T) {
	tests := []struct {
		name                string
		p                   Principal
		wantARN, wantUserID string
		wantKind            Kind
	}{
		{"root", Root("123456789012", "AKIAROOT"), "arn:aws:iam::123456789012:root", "123456789012", KindRoot},
		{"user at root path", User("123456789012", "", "alice", "AIDAALICE", "AKIAALICE"), "arn:aws:iam::123456789012:user/alice", "AIDAALICE", KindUser},
		{"user with a path", User("123456789012", "/eng/data/", "bob", "AIDABOB", "AKIABOB"), "arn:aws:iam::123456789012:user/eng/data/bob", "AIDABOB", KindUser},
		{"anonymous", Anonymous(), "", "", KindAnonymous},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.p.ARN != tt.wantARN || tt.p.UserID != tt.wantUserID || tt.p.Kind != tt.wantKind {
				t.Errorf("got %+v", tt.p)
			}
			if tt.p.String() != tt.wantARN {
				t.Errorf("String() = %q", tt.p.String())
			}
		})
	}
}

func TestContext(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("empty context has a principal")
	}
	want := Root("123456789012", "AKIAROOT")
	got, ok := FromContext(WithPrincipal(context.Background(), want))
	if !ok || got != want {
		t.Fatalf("got %+v, %v", got, ok)
	}
}

func TestIDs(t *testing.T) {
	rnd := bytes.NewReader(bytes.Repeat([]byte{0xA5}, 100))
	id, err := NewUniqueID(PrefixUser, rnd)
	if err != nil || len(id) != 21 || id[:4] != "AIDA" {
		t.Errorf("unique id %q, %v", id, err)
	}
	key, err := NewAccessKeyID(PrefixAccessKey, rnd)
	if err != nil || len(key) != 20 || key[:4] != "AKIA" {
		t.Errorf("access key id %q, %v", key, err)
	}
	sec, err := NewSecretAccessKey(rnd)
	if err != nil || len(sec.Reveal()) != 40 {
		t.Errorf("secret length %d, %v", len(sec.Reveal()), err)
	}
	if _, err := NewUniqueID(PrefixUser, bytes.NewReader(nil)); err == nil {
		t.Error("want an error when randomness runs out")
	}
}
