package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	pgengine "github.com/dbiam/dbiam/internal/engine/postgres"
)

// dropBatch is the number of logins dropped per transaction.
const dropBatch = 500

// lockKeySQL is the advisory lock key the engine takes before it rewrites a
// database's ACL (see the engine/postgres package documentation), computed
// for a row of pg_database.
const lockKeySQL = "(x'64626961'::bigint << 32) | d.oid::bigint"

// dropLogins drops the bench's logins as the admin role, in batches: the
// ones the engine's marker role holds (managed logins) and that have no
// session, never another role. Their CONNECT grants are revoked first, under
// the engine's per-database advisory locks. It returns how many were
// dropped.
//
// The engine's Revoke does the same one login at a time; on a cluster with
// thousands of live logins each call costs tens of milliseconds (see
// docs/bench.md), too slow to clean up after a benchmark.
func dropLogins(ctx context.Context, eng *pgengine.Engine, cfg Config, names []string) (int, error) {
	if len(names) == 0 {
		return 0, nil
	}
	cc, err := pgx.ParseConfig(cfg.AdminURL)
	if err != nil {
		return 0, fmt.Errorf("admin URL: invalid")
	}
	if !cfg.AdminPassword.IsZero() {
		cc.Password = cfg.AdminPassword.Reveal()
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return 0, fmt.Errorf("connect as admin: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	dropped := 0
	for start := 0; start < len(names); start += dropBatch {
		n, err := dropBatchTx(ctx, conn, eng.MarkerRole(), names[start:min(start+dropBatch, len(names))])
		dropped += n
		if err != nil {
			return dropped, err
		}
	}
	return dropped, nil
}

func dropBatchTx(ctx context.Context, conn *pgx.Conn, marker string, names []string) (int, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Managed by the engine (held by its marker), without sessions.
	rows, err := tx.Query(ctx, `
		SELECT l.rolname::text FROM pg_roles l
		JOIN pg_auth_members a ON a.roleid = l.oid
		JOIN pg_roles m ON m.oid = a.member AND m.rolname = $1
		WHERE l.rolname = ANY($2::text[])
		  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity s WHERE s.usesysid = l.oid)
		ORDER BY 1`, marker, names)
	if err != nil {
		return 0, err
	}
	managed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(managed) == 0 {
		return 0, err
	}
	idents := make([]string, len(managed))
	for i, n := range managed {
		idents[i] = pgx.Identifier{n}.Sanitize()
	}
	list := strings.Join(idents, ", ")
	// The databases on which they hold privileges, from pg_shdepend
	// (indexed by role), locked in oid order as the engine does.
	rows, err = tx.Query(ctx, `
		SELECT DISTINCT d.oid, d.datname::text, `+lockKeySQL+` FROM pg_shdepend s
		JOIN pg_database d ON d.oid = s.objid
		WHERE s.classid = 'pg_database'::regclass AND s.refclassid = 'pg_authid'::regclass
		  AND s.refobjid = ANY(ARRAY(SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[])))
		ORDER BY d.oid`, managed)
	if err != nil {
		return 0, err
	}
	type db struct {
		oid  uint32
		name string
		key  int64
	}
	dbs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (db, error) {
		var d db
		return d, r.Scan(&d.oid, &d.name, &d.key)
	})
	if err != nil {
		return 0, err
	}
	for _, d := range dbs {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", d.key); err != nil {
			return 0, err
		}
	}
	for _, d := range dbs {
		if _, err := tx.Exec(ctx, "REVOKE ALL ON DATABASE "+pgx.Identifier{d.name}.Sanitize()+" FROM "+list); err != nil {
			return 0, fmt.Errorf("revoke database privileges: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, "DROP ROLE "+list); err != nil {
		return 0, fmt.Errorf("drop logins: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return len(managed), nil
}
