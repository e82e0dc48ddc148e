package iam

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/store"
)

// IAM error codes.
const (
	codeNoSuchEntity            = "NoSuchEntity"
	codeEntityAlreadyExists     = "EntityAlreadyExists"
	codeDeleteConflict          = "DeleteConflict"
	codeLimitExceeded           = "LimitExceeded"
	codeInvalidInput            = "InvalidInput"
	codeMalformedPolicyDocument = "MalformedPolicyDocument"
)

func noSuchEntity(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeNoSuchEntity, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusNotFound}
}

func entityAlreadyExists(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeEntityAlreadyExists, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusConflict}
}

func deleteConflict(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeDeleteConflict, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusConflict}
}

func limitExceeded(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeLimitExceeded, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusConflict}
}

func invalidInput(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeInvalidInput, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusBadRequest}
}

func malformedPolicy(format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: codeMalformedPolicyDocument, Message: fmt.Sprintf(format, args...), HTTPStatus: http.StatusBadRequest}
}

// entityError maps the store's sentinels for one entity to AWS errors with
// AWS's messages; other errors pass through (and become InternalFailure).
func entityError(err error, kind, name string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return noSuchEntity("The %s with name %s cannot be found.", kind, name)
	case errors.Is(err, store.ErrAlreadyExists):
		return entityAlreadyExists("%s with name %s already exists.", capitalize(kind), name)
	case errors.Is(err, store.ErrConflict):
		return deleteConflict("Cannot delete entity, must remove dependent entities first: %s.", conflictDetail(err))
	case errors.Is(err, store.ErrLimitExceeded):
		return limitExceeded("Cannot exceed quota for %s.", kind)
	}
	return err
}

// conflictDetail keeps the store's explanation (which names the causes, never
// a secret) without the sentinel's prefix.
func conflictDetail(err error) string {
	msg := err.Error()
	const sentinel = ": " + "store: conflict"
	if i := len(msg) - len(sentinel); i > 0 && msg[i:] == sentinel {
		msg = msg[:i]
	}
	return msg
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}
