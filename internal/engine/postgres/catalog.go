package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dbiam/dbiam/internal/engine"
)

// managedLoginsSQL lists the roles the marker holds, with what ListManaged
// reports about each. Sessions and CONNECT grants are gathered once, not
// per login: every login may have an entry in the ACL of each database, so
// exploding the ACLs per login costs O(logins²) (a minute for 2,000
// logins).
const managedLoginsSQL = `
WITH sessions AS MATERIALIZED (
	SELECT usesysid, count(*)::int AS n FROM pg_stat_activity
	WHERE usesysid IS NOT NULL GROUP BY usesysid
), connect AS MATERIALIZED (
	SELECT x.grantee, array_agg(DISTINCT d.datname::text ORDER BY d.datname::text) AS dbs
	FROM pg_database d, aclexplode(d.datacl) x
	WHERE x.privilege_type = 'CONNECT'
	GROUP BY x.grantee
)
SELECT l.rolname::text,
	coalesce((
		SELECT u.rolname::text FROM pg_auth_members a JOIN pg_roles u ON u.oid = a.roleid
		WHERE a.member = l.oid
		ORDER BY u.rolname::text = coalesce((
			SELECT substr(c, 6) FROM pg_db_role_setting s, unnest(s.setconfig) c
			WHERE s.setrole = l.oid AND s.setdatabase = 0 AND c LIKE 'role=%' LIMIT 1), '') DESC, u.oid
		LIMIT 1), ''),
	l.rolvaliduntil,
	l.rolcanlogin,
	coalesce(s.n, 0),
	coalesce(shobj_description(l.oid, 'pg_authid'), ''),
	coalesce(c.dbs, '{}')
FROM pg_roles m
JOIN pg_auth_members h ON h.member = m.oid
JOIN pg_roles l ON l.oid = h.roleid
LEFT JOIN sessions s ON s.usesysid = l.oid
LEFT JOIN connect c ON c.grantee = l.oid
WHERE m.rolname = $1
ORDER BY l.rolname`

// groupGrantsSQL lists the members of the wrapper roles the group marker
// holds, with the group each wrapper stands for.
const groupGrantsSQL = `
SELECT DISTINCT u.rolname::text, g.rolname::text
FROM pg_roles gm
JOIN pg_auth_members h ON h.member = gm.oid
JOIN pg_auth_members wg ON wg.member = h.roleid
JOIN pg_roles g ON g.oid = wg.roleid
JOIN pg_auth_members uw ON uw.roleid = h.roleid AND uw.member <> gm.oid
JOIN pg_roles u ON u.oid = uw.member
WHERE gm.rolname = $1
ORDER BY 1, 2`

// ListManaged implements engine.Engine.
func (e *Engine) ListManaged(ctx context.Context) (engine.Managed, error) {
	var out engine.Managed
	b := &pgx.Batch{}
	b.Queue(managedLoginsSQL, e.marker).Query(func(rows pgx.Rows) error {
		var err error
		out.Logins, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.ManagedLogin, error) {
			var l engine.ManagedLogin
			var until pgtype.Timestamptz
			var canLogin bool
			if err := row.Scan(&l.Name, &l.DbUser, &until, &canLogin, &l.Sessions, &l.Comment, &l.Databases); err != nil {
				return l, err
			}
			if until.Valid && until.InfinityModifier == pgtype.Finite {
				l.ValidUntil = until.Time.UTC()
			}
			l.Disabled = !canLogin || (until.Valid && until.InfinityModifier == pgtype.NegativeInfinity)
			return l, nil
		})
		return err
	})
	b.Queue(groupGrantsSQL, e.groupMarker).Query(func(rows pgx.Rows) error {
		var err error
		out.GroupGrants, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.GroupGrant, error) {
			var g engine.GroupGrant
			return g, row.Scan(&g.DbUser, &g.Group)
		})
		return err
	})
	if err := e.pool.SendBatch(ctx, b).Close(); err != nil {
		return engine.Managed{}, fmt.Errorf("list managed logins: %w", err)
	}
	return out, nil
}

// Verify implements engine.Engine.
func (e *Engine) Verify(ctx context.Context) (engine.Capabilities, error) {
	var c engine.Capabilities
	var num string
	err := e.pool.QueryRow(ctx, `
		SELECT current_setting('server_version'), current_setting('server_version_num'), current_user::text,
			r.rolsuper, r.rolcreaterole, r.rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&c.ServerVersion, &num, &c.User, &c.Superuser, &c.CreateRole, &c.CanTerminate)
	if err != nil {
		return c, fmt.Errorf("verify: %w", err)
	}
	if c.ServerVersionNum, err = strconv.Atoi(num); err != nil {
		return c, fmt.Errorf("verify: server_version_num %q: %w", num, err)
	}
	if c.ServerVersionNum >= 150000 {
		err = e.pool.QueryRow(ctx, `
			SELECT bool_and(has_parameter_privilege(n, 'SET'))
			FROM unnest(ARRAY['log_statement', 'log_min_error_statement', 'log_min_duration_statement']) AS n`).Scan(&c.CanSuppressLogs)
		if err != nil {
			return c, fmt.Errorf("verify: %w", err)
		}
	} else {
		c.CanSuppressLogs = c.Superuser
	}
	c.CanSuppressLogs = c.CanSuppressLogs && !e.keepLogging
	rows, err := e.pool.Query(ctx, `
		SELECT datname::text, datallowconn, datistemplate,
			has_database_privilege('public', oid, 'CONNECT'),
			has_database_privilege(oid, 'CONNECT WITH GRANT OPTION')
		FROM pg_database ORDER BY datname`)
	if err != nil {
		return c, fmt.Errorf("verify: %w", err)
	}
	c.Databases, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.DatabaseInfo, error) {
		var d engine.DatabaseInfo
		return d, row.Scan(&d.Name, &d.AllowConnections, &d.IsTemplate, &d.PublicConnect, &d.CanGrantConnect)
	})
	if err != nil {
		return c, fmt.Errorf("verify: %w", err)
	}
	return c, nil
}
