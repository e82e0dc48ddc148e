package sts

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/keyring"
)

func testKeyring(t *testing.T, id string, older ...keyring.Key) (*keyring.Keyring, keyring.Key) {
	t.Helper()
	k, err := keyring.GenerateKey(rand.Reader, id)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(k, older...)
	if err != nil {
		t.Fatal(err)
	}
	return kr, k
}

func TestTokens(t *testing.T) {
	kr, oldKey := testKeyring(t, "old")
	tokens := &Tokens{Keyring: kr}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	sess := &identity.Session{Source: "AssumeRole", RoleName: "reader", RolePath: "/", RoleID: "AROAEXAMPLE", SessionName: "s", IssuedAt: now.Unix(), Expiration: now.Add(time.Hour).Unix()}
	tok, err := tokens.seal(claims{AccountID: "123456789012", AccessKeyID: "ASIAONE", Secret: "sekrit", Kind: identity.KindAssumedRole, Session: sess})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok, "sekrit") || strings.Contains(tok, "reader") {
		t.Fatal("the token is not sealed")
	}
	p, sec, err := tokens.Resolve("ASIAONE", tok, now.Add(59*time.Minute))
	if err != nil || sec.Reveal() != "sekrit" || p.ARN != "arn:aws:sts::123456789012:assumed-role/reader/s" || p.UserID != "AROAEXAMPLE:s" {
		t.Fatalf("resolve: %+v %v", p, err)
	}

	t.Run("expired", func(t *testing.T) {
		_, _, err := tokens.Resolve("ASIAONE", tok, now.Add(time.Hour))
		var ae *awserr.Error
		if !errors.As(err, &ae) || ae.Code != awserr.ExpiredToken {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("another access key", func(t *testing.T) {
		if _, _, err := tokens.Resolve("ASIATWO", tok, now); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("every flipped byte", func(t *testing.T) {
		for i := len(tokenPrefix); i < len(tok); i++ {
			b := []byte(tok)
			b[i] ^= 1
			if _, _, err := tokens.Resolve("ASIAONE", string(b), now); err == nil {
				t.Fatalf("flip at %d accepted", i)
			}
		}
	})
	t.Run("garbage", func(t *testing.T) {
		for _, g := range []string{"", "DBIAMv1.", "DBIAMv1.!!!", "IQoJb3JpZ2luX2VjEXAMPLE", tokenPrefix + strings.Repeat("A", MaxTokenLength)} {
			if _, _, err := tokens.Resolve("ASIAONE", g, now); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("%.20q: %v", g, err)
			}
		}
	})
	t.Run("rotation keeps old tokens valid", func(t *testing.T) {
		rotated, _ := testKeyring(t, "new", oldKey)
		if _, _, err := (&Tokens{Keyring: rotated}).Resolve("ASIAONE", tok, now); err != nil {
			t.Errorf("after rotation: %v", err)
		}
		other, _ := testKeyring(t, "other")
		if _, _, err := (&Tokens{Keyring: other}).Resolve("ASIAONE", tok, now); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("foreign keyring: %v", err)
		}
	})
}
