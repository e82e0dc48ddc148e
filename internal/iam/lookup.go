package iam

import (
	"context"
	"errors"

	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/store"
)

// authorizeLookup authorizes action on the entity a store lookup was asked
// for; lookupErr is the lookup's error. If the entity was found, action is
// authorized on foundARN (its ARN, with the stored path). If it was not,
// action is authorized on missingARN instead and only then is notFound()
// returned, so that callers not allowed to act on a name cannot probe
// whether it exists. Other lookup errors pass through.
func (s *Service) authorizeLookup(ctx context.Context, req *dispatch.Request, action string, lookupErr error, foundARN, missingARN string, notFound func() error) error {
	if errors.Is(lookupErr, store.ErrNotFound) {
		if err := s.authz.Authorize(ctx, req, action, missingARN); err != nil {
			return err
		}
		return notFound()
	}
	if lookupErr != nil {
		return lookupErr
	}
	return s.authz.Authorize(ctx, req, action, foundARN)
}

// authorizeEntityLookup is authorizeLookup for the user, group or role the
// caller named: found is the stored entity's path and name, and a missing
// one is authorized at path "/" and reported as NoSuchEntity.
func (s *Service) authorizeEntityLookup(ctx context.Context, req *dispatch.Request, kind store.PrincipalKind, action, name string, lookupErr error, foundPath, foundName string) error {
	return s.authorizeLookup(ctx, req, action, lookupErr, s.entityARN(kind, foundPath, foundName), s.entityARN(kind, "/", name),
		func() error { return entityError(lookupErr, string(kind), name) })
}

// authorizeRename returns the name and path an Update{User,Group} request
// leaves an entity with: newName and newPath where given, its current name
// and path otherwise. AWS requires permission on the new identity too, so a
// change also authorizes action on the new ARN.
func (s *Service) authorizeRename(ctx context.Context, req *dispatch.Request, kind store.PrincipalKind, action, name, path string, newName, newPath *string) (string, string, error) {
	toName, toPath := name, path
	if newName != nil {
		toName = *newName
	}
	if newPath != nil {
		toPath = *newPath
	}
	if toName != name || toPath != path {
		if err := s.authz.Authorize(ctx, req, action, s.entityARN(kind, toPath, toName)); err != nil {
			return "", "", err
		}
	}
	return toName, toPath, nil
}

// renameError maps the store's answer to renaming the entity name to
// newName: a name already taken is the new one, anything else is about the
// entity being renamed.
func renameError(err error, kind store.PrincipalKind, name, newName string) error {
	if errors.Is(err, store.ErrAlreadyExists) {
		return entityError(err, string(kind), newName)
	}
	return entityError(err, string(kind), name)
}
