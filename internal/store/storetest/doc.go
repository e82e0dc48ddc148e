// Package storetest is the conformance suite of package store: Run checks
// that a backend behaves exactly as the store.Store contract says (sentinel
// errors, case-insensitive names, pagination, atomic updaters, no lost
// updates under concurrent writers, replay records, leases, time precision,
// and the IAM entities: groups and memberships, roles, inline and managed
// policies, versions, attachments, effective policies, SAML providers, delete
// conflicts, renames that carry relations, races between a delete and a new
// reference; registered clusters and issued credentials: exact identifiers,
// deletes refused while credentials are not dropped, the reaper's due list,
// claims raced by concurrent workers, the groups still needed, purges).
// Every backend's tests call Run; a behaviour not checked here is not part
// of the contract.
//
// It is imported only by tests. It must not depend on any backend, and must
// not log secret material (the sealed bytes it stores are random test data).
package storetest
