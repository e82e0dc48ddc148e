package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/engine"
)

// loginSQL reads what Revoke needs about a login: its oid, whether the
// marker holds it, whether it is already disabled, its live sessions and the
// role it acts as (the role named by its SET role setting among those it is
// a member of, else the first of them).
const loginSQL = `
SELECT l.oid,
	EXISTS (SELECT 1 FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member
	        WHERE a.roleid = l.oid AND m.rolname = $2),
	NOT l.rolcanlogin AND l.rolvaliduntil IS NOT NULL AND l.rolvaliduntil = '-infinity',
	(SELECT count(*) FROM pg_stat_activity s WHERE s.usesysid = l.oid)::int,
	coalesce((
		SELECT u.rolname FROM pg_auth_members a JOIN pg_roles u ON u.oid = a.roleid
		WHERE a.member = l.oid
		ORDER BY u.rolname::text = coalesce((
			SELECT substr(c, 6) FROM pg_db_role_setting s, unnest(s.setconfig) c
			WHERE s.setrole = l.oid AND s.setdatabase = 0 AND c LIKE 'role=%' LIMIT 1), '') DESC, u.oid
		LIMIT 1), '')
FROM pg_roles l WHERE l.rolname = $1`

type loginState struct {
	oid      uint32
	managed  bool
	disabled bool
	sessions int
	dbUser   string
}

// readLogin returns nil when the login does not exist.
func (e *Engine) readLogin(ctx context.Context, name string) (*loginState, error) {
	var s loginState
	err := e.pool.QueryRow(ctx, loginSQL, name, e.marker).Scan(&s.oid, &s.managed, &s.disabled, &s.sessions, &s.dbUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Revoke implements engine.Engine.
func (e *Engine) Revoke(ctx context.Context, req engine.RevokeRequest) (engine.RevokeResponse, error) {
	var resp engine.RevokeResponse
	if err := engine.ValidateRoleName(req.LoginName); err != nil {
		return resp, fmt.Errorf("revoke login: %w", err)
	}
	name := req.LoginName
	login, err := e.readLogin(ctx, name)
	if err != nil {
		return resp, fmt.Errorf("revoke login %q: %w", name, err)
	}
	if login == nil {
		resp.NotFound = true
		return resp, nil
	}
	if !login.managed {
		return resp, fmt.Errorf("revoke login: %w: %q is not held by marker role %q", engine.ErrNotManaged, name, e.marker)
	}

	// 1. Disable, durably, so that whatever happens next nobody logs in.
	if !login.disabled {
		err := e.retry(ctx, "revoke", func() error {
			return e.execPool(ctx, plain("ALTER ROLE "+ident(name)+" NOLOGIN VALID UNTIL '-infinity'"))
		})
		if sqlState(err) == codeUndefinedObject {
			resp.NotFound = true // dropped concurrently
			return resp, nil
		}
		if err != nil {
			return resp, fmt.Errorf("revoke login %q: disable: %w", name, err)
		}
	}

	// 2. Sessions.
	resp.Sessions = login.sessions
	if login.sessions > 0 {
		if !req.Terminate {
			resp.Busy = true
			return resp, nil
		}
		err := e.pool.QueryRow(ctx, `
			SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, $2))::int
			FROM pg_stat_activity WHERE usesysid = $1 AND pid <> pg_backend_pid()`,
			login.oid, e.termTimeout.Milliseconds()).Scan(&resp.Terminated)
		if sqlState(err) == codeInsufficientPriv {
			return resp, fmt.Errorf("revoke login %q: terminate sessions: %w: %w", name, engine.ErrPermission, err)
		}
		if err != nil {
			return resp, fmt.Errorf("revoke login %q: terminate sessions: %w", name, err)
		}
		if err := e.pool.QueryRow(ctx, `SELECT count(*)::int FROM pg_stat_activity WHERE usesysid = $1`, login.oid).Scan(&resp.Sessions); err != nil {
			return resp, fmt.Errorf("revoke login %q: count sessions: %w", name, err)
		}
		if resp.Sessions > 0 {
			resp.Busy = true
			return resp, nil
		}
	}

	// 3. Drop.
	err = e.retry(ctx, "revoke", func() error { return e.drop(ctx, name, login.oid) })
	if sqlState(err) == codeDependentObjects {
		if err := e.dropOwned(ctx, name, login); err != nil {
			return resp, fmt.Errorf("revoke login %q: %w", name, err)
		}
		err = e.retry(ctx, "revoke", func() error { return e.drop(ctx, name, login.oid) })
	}
	if sqlState(err) == codeUndefinedObject {
		resp.Dropped = true // dropped concurrently: gone all the same
		return resp, nil
	}
	if err != nil {
		return resp, fmt.Errorf("revoke login %q: drop: %w", name, err)
	}
	resp.Dropped = true
	return resp, nil
}

// drop revokes the login's privileges on databases (under the same
// advisory locks as Issue's grants) and drops it, in one transaction.
func (e *Engine) drop(ctx context.Context, name string, oid uint32) (err error) {
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	defer func() {
		if err != nil {
			rollback(conn)
		}
	}()
	var dbs []dbState
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	// The databases whose ACL names the login, from its shared
	// dependencies (an index lookup; exploding every database ACL costs
	// O(logins) per call).
	b.Queue(`
		SELECT DISTINCT d.oid, d.datname::text FROM pg_shdepend s JOIN pg_database d ON d.oid = s.objid
		WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1
			AND s.classid = 'pg_database'::regclass AND s.deptype = 'a'
		ORDER BY d.oid`, oid).Query(func(rows pgx.Rows) error {
		var err error
		dbs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (dbState, error) {
			var d dbState
			return d, row.Scan(&d.oid, &d.name)
		})
		return err
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	var stmts []stmt
	for _, d := range dbs {
		stmts = append(stmts, plain(fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", lockKey(d.oid))))
	}
	for _, d := range dbs {
		stmts = append(stmts, plain("REVOKE ALL ON DATABASE "+ident(d.name)+" FROM "+ident(name)))
	}
	stmts = append(stmts, plain("DROP ROLE "+ident(name)), plain("COMMIT"))
	return execAll(ctx, conn.Conn(), stmts)
}

// dropOwned is Revoke's fallback when the login still owns objects or holds
// privileges granted by others: in every database pg_shdepend names (and in
// the admin database for shared objects) it reassigns the login's objects
// to its db user and drops what remains (privileges granted to the login).
func (e *Engine) dropOwned(ctx context.Context, name string, login *loginState) error {
	if login.dbUser == "" {
		return fmt.Errorf("the login has dependent objects and acts as no existing role to reassign them to; it stays disabled")
	}
	if err := engine.ValidateRoleName(login.dbUser); err != nil {
		return fmt.Errorf("reassign objects: db user: %w", err)
	}
	type dbRef struct {
		name    string
		current bool
	}
	rows, err := e.pool.Query(ctx, `
		SELECT DISTINCT coalesce(d.datname, current_database()), d.oid IS NULL OR d.datname = current_database()
		FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid
		WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = $1 AND (s.dbid = 0 OR d.oid IS NOT NULL)`, login.oid)
	if err != nil {
		return fmt.Errorf("find dependent objects: %w", err)
	}
	dbs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dbRef, error) {
		var d dbRef
		return d, row.Scan(&d.name, &d.current)
	})
	if err != nil {
		return fmt.Errorf("find dependent objects: %w", err)
	}
	done := map[string]bool{}
	for _, d := range dbs {
		if done[d.name] {
			continue
		}
		done[d.name] = true
		if err := e.retry(ctx, "revoke", func() error {
			if d.current {
				conn, err := e.pool.Acquire(ctx)
				if err != nil {
					return err
				}
				defer conn.Release()
				err = reassign(ctx, conn.Conn(), name, login.dbUser)
				if err != nil {
					rollback(conn)
				}
				return err
			}
			if err := engine.ValidateDatabaseName(d.name); err != nil {
				return err
			}
			cc := e.connConfig.Copy()
			cc.Database = d.name
			if e.beforeConnect != nil {
				if err := e.beforeConnect(ctx, cc); err != nil {
					return err
				}
			}
			conn, err := pgx.ConnectConfig(ctx, cc)
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(ctx))
			return reassign(ctx, conn, name, login.dbUser)
		}); err != nil {
			return fmt.Errorf("reassign objects in database %q: %w", d.name, err)
		}
	}
	return nil
}

// reassign runs REASSIGN OWNED BY login TO dbUser and DROP OWNED BY login
// in conn's database, in one transaction. Both need the privileges of the
// roles involved: a non-superuser admin (CREATEROLE) grants itself the
// memberships it lacks for the length of the transaction.
func reassign(ctx context.Context, conn *pgx.Conn, login, dbUser string) error {
	var super, hasLogin, hasUser bool
	err := conn.QueryRow(ctx, `
		SELECT r.rolsuper, pg_has_role(current_user, $1::name, 'USAGE'), pg_has_role(current_user, $2::name, 'USAGE')
		FROM pg_roles r WHERE r.rolname = current_user`, login, dbUser).Scan(&super, &hasLogin, &hasUser)
	if err != nil {
		return err
	}
	stmts := []stmt{plain("BEGIN")}
	var undo []stmt
	for _, r := range []struct {
		name string
		has  bool
	}{{login, hasLogin}, {dbUser, hasUser}} {
		if !super && !r.has {
			stmts = append(stmts, plain("GRANT "+ident(r.name)+" TO CURRENT_USER"))
			undo = append(undo, plain("REVOKE "+ident(r.name)+" FROM CURRENT_USER"))
		}
	}
	stmts = append(stmts,
		plain("REASSIGN OWNED BY "+ident(login)+" TO "+ident(dbUser)),
		plain("DROP OWNED BY "+ident(login)))
	stmts = append(stmts, undo...)
	stmts = append(stmts, plain("COMMIT"))
	return execAll(ctx, conn, stmts)
}

// revokeGroupsSQL finds the wrappers (held by the group marker) of the given
// groups of which the db user is a member.
const revokeGroupsSQL = `
SELECT DISTINCT w.rolname
FROM unnest($1::text[]) AS g(name)
JOIN pg_roles gr ON gr.rolname = g.name
JOIN pg_auth_members wg ON wg.roleid = gr.oid
JOIN pg_auth_members h ON h.roleid = wg.member AND h.member = (SELECT oid FROM pg_roles WHERE rolname = $2)
JOIN pg_auth_members uw ON uw.roleid = wg.member AND uw.member = (SELECT oid FROM pg_roles WHERE rolname = $3)
JOIN pg_roles w ON w.oid = wg.member
ORDER BY 1`

// RevokeGroups implements engine.Engine: it revokes from dbUser the wrapper
// roles through which dbiam granted the groups, never a direct membership.
// It holds the db user's advisory lock (see userLockSQL) from before
// stillNeeded is called until it commits.
func (e *Engine) RevokeGroups(ctx context.Context, dbUser string, groups []string, stillNeeded func(context.Context) ([]string, error)) error {
	if err := engine.ValidateRoleName(dbUser); err != nil {
		return fmt.Errorf("revoke groups: db user: %w", err)
	}
	for _, g := range groups {
		if err := engine.ValidateRoleName(g); err != nil {
			return fmt.Errorf("revoke groups: group: %w", err)
		}
	}
	groups = dedupe(groups)
	if len(groups) == 0 {
		return nil
	}
	err := e.retry(ctx, "revoke groups", func() (err error) {
		conn, err := e.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		defer func() {
			if err != nil {
				rollback(conn)
			}
		}()
		b := &pgx.Batch{}
		b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
		b.Queue(userLockSQL, dbUser)
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		revoke := groups
		if stillNeeded != nil {
			cctx, cancel := context.WithTimeout(ctx, stillNeededTimeout)
			keep, err := stillNeeded(cctx)
			cancel()
			if err != nil {
				return fmt.Errorf("groups still needed: %w", err)
			}
			revoke = slices.DeleteFunc(slices.Clone(groups), func(g string) bool { return slices.Contains(keep, g) })
		}
		var wrappers []string
		if len(revoke) > 0 {
			if err := conn.QueryRow(ctx, `SELECT coalesce(array_agg(rolname), '{}') FROM (`+revokeGroupsSQL+`) AS w`,
				revoke, e.groupMarker, dbUser).Scan(&wrappers); err != nil {
				return err
			}
		}
		stmts := []stmt{}
		for _, w := range wrappers {
			if err := engine.ValidateRoleName(w); err != nil {
				return err
			}
			stmts = append(stmts, plain("REVOKE "+ident(w)+" FROM "+ident(dbUser)))
		}
		stmts = append(stmts, plain("COMMIT"))
		return execAll(ctx, conn.Conn(), stmts)
	})
	if err != nil {
		return fmt.Errorf("revoke groups of %q: %w", dbUser, err)
	}
	return nil
}

// userLockSQL takes the advisory lock of a db user ($1) exclusively, for
// RevokeGroups; userLockSharedSQL takes it shared, for an Issue that asks
// for groups: revocations and issues for the same user exclude each other,
// issues do not (concurrent grants of the same wrapper are retried). The
// key is "dbiu" and a hash of the name, in the two-key space (which cannot
// collide with the one-key database locks).
const (
	userLockSQL       = `SELECT pg_advisory_xact_lock(x'64626975'::int, hashtext($1))`
	userLockSharedSQL = `SELECT pg_advisory_xact_lock_shared(x'64626975'::int, hashtext($1))`
	// stillNeededTimeout bounds RevokeGroups' callback, which runs while
	// the user's lock holds off that user's issues.
	stillNeededTimeout = 10 * time.Second
)
