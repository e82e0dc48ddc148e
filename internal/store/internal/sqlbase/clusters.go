package sqlbase

import (
	"encoding/json"
	"fmt"

	"github.com/dbiam/dbiam/internal/store"
)

// CheckClusterUpdate verifies that a cluster updater did not change the
// identifier.
func CheckClusterUpdate(old, updated store.Cluster) error {
	if updated.Identifier != old.Identifier {
		return fmt.Errorf("update cluster %q: the identifier cannot change", old.Identifier)
	}
	return nil
}

// CheckCredentialState refuses a state that is not one of the store's
// Credential* states.
func CheckCredentialState(id, state string) error {
	switch state {
	case store.CredentialIssuing, store.CredentialActive, store.CredentialRevoking,
		store.CredentialDropped, store.CredentialFailed:
		return nil
	}
	return fmt.Errorf("credential %q: unknown state %q (want issuing, active, revoking, dropped or failed)", id, state)
}

// CheckCredentialUpdate verifies that a credential updater changed only what
// it may change (everything but ID, Cluster, LoginRole, DbUser and
// CreatedAt) and left a known state.
func CheckCredentialUpdate(old, updated store.IssuedCredential) error {
	switch {
	case updated.ID != old.ID:
		return fmt.Errorf("update credential %q: the ID cannot change", old.ID)
	case updated.Cluster != old.Cluster:
		return fmt.Errorf("update credential %q: the cluster cannot change", old.ID)
	case updated.LoginRole != old.LoginRole:
		return fmt.Errorf("update credential %q: the login role cannot change", old.ID)
	case updated.DbUser != old.DbUser:
		return fmt.Errorf("update credential %q: the database user cannot change", old.ID)
	case !Time(updated.CreatedAt).Equal(Time(old.CreatedAt)):
		return fmt.Errorf("update credential %q: the creation time cannot change", old.ID)
	}
	return CheckCredentialState(old.ID, updated.State)
}

// EncodeGroups encodes a credential's groups as a JSON array ("[]" when
// none), keeping their order.
func EncodeGroups(groups []string) (string, error) {
	if len(groups) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(groups)
	if err != nil {
		return "", fmt.Errorf("encode groups: %w", err)
	}
	return string(b), nil
}

// DecodeGroups decodes what EncodeGroups produced; no groups give nil.
func DecodeGroups(s string) ([]string, error) {
	var groups []string
	if err := json.Unmarshal([]byte(s), &groups); err != nil {
		return nil, fmt.Errorf("decode groups: %w", err)
	}
	if len(groups) == 0 {
		return nil, nil
	}
	return groups, nil
}
