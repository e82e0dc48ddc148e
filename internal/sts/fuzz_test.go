package sts

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/keyring"
)

// FuzzResolve feeds hostile session tokens (they arrive in a request
// header) to Resolve: it never panics, and anything but the token the
// keyring sealed, for the access key it was sealed for, is refused.
func FuzzResolve(f *testing.F) {
	k, err := keyring.GenerateKey(rand.Reader, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	kr, err := keyring.New(k)
	if err != nil {
		f.Fatal(err)
	}
	tokens := &Tokens{Keyring: kr}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	sess := &identity.Session{Source: "AssumeRole", RoleName: "reader", RolePath: "/", RoleID: "AROAEXAMPLE", SessionName: "s",
		IssuedAt: now.Unix(), Expiration: now.Add(time.Hour).Unix()}
	valid, err := tokens.seal(claims{AccountID: "123456789012", AccessKeyID: "ASIAONE", Secret: "sekrit", Kind: identity.KindAssumedRole, Session: sess})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("ASIAONE", valid)
	f.Add("ASIATWO", valid)
	f.Add("ASIAONE", valid[:len(valid)-4])
	f.Add("ASIAONE", tokenPrefix)
	f.Add("ASIAONE", tokenPrefix+"e30=")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, accessKeyID, token string) {
		p, sec, err := tokens.Resolve(accessKeyID, token, now)
		if err != nil {
			if sec != "" || p.ARN != "" {
				t.Fatalf("an error with a principal or secret: %+v", p)
			}
			return
		}
		if token != valid || accessKeyID != "ASIAONE" {
			t.Fatalf("accepted a token that was never sealed for %q", accessKeyID)
		}
		if sec.Reveal() != "sekrit" {
			t.Fatal("wrong secret")
		}
	})
}
