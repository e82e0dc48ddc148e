package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbiam/dbiam/internal/engine"
)

// rolesSQL reads what Issue needs to know about the login names ($1) and
// db users ($2) of one or more requests, and about the marker roles ($3,
// $4): one row per request, in order. Every role lookup is an equality on a
// unique index (no OR): a db user or the marker may have thousands of
// members.
const rolesSQL = `
SELECT
	l.oid IS NOT NULL,
	u.oid IS NOT NULL,
	coalesce(u.rolsuper, false),
	coalesce(u.oid = m.oid OR u.oid = gm.oid
		OR EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = u.oid AND a.member = m.oid)
		OR EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = u.oid AND a.member = gm.oid), false),
	m.oid IS NOT NULL,
	gm.oid IS NOT NULL,
	NOT coalesce(m.rolcanlogin OR m.rolsuper, false)
		AND NOT coalesce(gm.rolcanlogin OR gm.rolsuper, false)
		AND NOT EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = m.oid)
		AND NOT EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = gm.oid)
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(login, dbuser, i)
LEFT JOIN pg_roles m ON m.rolname = $3
LEFT JOIN pg_roles gm ON gm.rolname = $4
LEFT JOIN pg_roles l ON l.rolname = r.login
LEFT JOIN pg_roles u ON u.rolname = r.dbuser
ORDER BY r.i`

// databasesSQL lists the databases a login needs CONNECT on: the one named
// by $1, or ($1 empty) every connectable non-template database where PUBLIC
// lacks CONNECT; in both cases among the managed databases ($2) when that
// list is not empty. It also switches off ($3: setting names, $4: values)
// the settings that could log the statement carrying a verifier. Each
// privilege function runs once per database (OFFSET 0 keeps the planner
// from copying it into the filter): on a database with thousands of
// grants, each call decompresses its ACL.
const databasesSQL = `
SELECT
	(SELECT count(set_config(n, v, true)) FROM unnest($3::text[], $4::text[]) AS q(n, v)),
	coalesce(array_agg(d.oid ORDER BY d.oid), '{}'),
	coalesce(array_agg(d.name ORDER BY d.oid), '{}'),
	coalesce(array_agg(d.connectable ORDER BY d.oid), '{}'),
	coalesce(array_agg(d.public ORDER BY d.oid), '{}'),
	coalesce(array_agg(d.grantable ORDER BY d.oid), '{}')
FROM (
	SELECT d.oid, d.datname::text AS name, d.datallowconn AND NOT d.datistemplate AS connectable,
		has_database_privilege('public', d.oid, 'CONNECT') AS public,
		has_database_privilege(d.oid, 'CONNECT WITH GRANT OPTION') AS grantable
	FROM pg_database d
	WHERE CASE WHEN $1 = '' THEN d.datallowconn AND NOT d.datistemplate ELSE d.datname = $1 END
		AND (cardinality($2::text[]) = 0 OR d.datname = ANY($2::text[]))
	OFFSET 0
) AS d
WHERE $1 <> '' OR NOT d.public`

// groupsSQL inspects each requested group and its wrapper role.
const groupsSQL = `
SELECT
	g.name,
	r.oid IS NOT NULL,
	coalesce(r.rolsuper OR r.rolcanlogin, false),
	coalesce(r.oid = m.oid OR r.oid = gm.oid
		OR EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = r.oid AND a.member = m.oid)
		OR EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = r.oid AND a.member = gm.oid), false),
	w.oid IS NOT NULL,
	EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = w.oid AND a.member = gm.oid),
	EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = r.oid AND a.member = w.oid),
	EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = w.oid AND a.member = u.oid)
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS g(name, wrapper, i)
LEFT JOIN pg_roles m ON m.rolname = $3
LEFT JOIN pg_roles gm ON gm.rolname = $4
LEFT JOIN pg_roles u ON u.rolname = $5
LEFT JOIN pg_roles r ON r.rolname = g.name
LEFT JOIN pg_roles w ON w.rolname = g.wrapper
ORDER BY g.i`

type groupState struct {
	name, wrapper                 string
	exists, notGroup, managed     bool
	wrapperExists, wrapperHeld    bool
	wrapperInGroup, userInWrapper bool
}

type dbState struct {
	oid                     uint32
	name                    string
	connectable, publicConn bool
	canGrant                bool
}

// plan is what one attempt of Issue found in the catalog.
type plan struct {
	quiet                       []string // settings switched off (quietSettings names)
	loginExists                 bool
	userExists, userSuper       bool
	userManaged                 bool
	markerExists, gmarkerExists bool
	markersSafe                 bool
	groups                      []groupState
	dbs                         []dbState
}

// Issue implements engine.Engine.
func (e *Engine) Issue(ctx context.Context, req engine.IssueRequest) (engine.IssueResponse, error) {
	if err := req.Validate(e.now()); err != nil {
		return engine.IssueResponse{}, fmt.Errorf("issue login: %w", err)
	}
	if err := e.checkNames(req); err != nil {
		return engine.IssueResponse{}, fmt.Errorf("issue login: %w", err)
	}
	// Sorted: the grants lock roles (from PostgreSQL 16) in this order.
	groups := dedupe(req.Groups)
	slices.Sort(groups)
	until := req.ValidUntil.UTC().Truncate(time.Microsecond).Format("2006-01-02 15:04:05.000000-07:00")
	if !timestampRE.MatchString(until) {
		return engine.IssueResponse{}, fmt.Errorf("issue login: %w: valid until %s is out of range", engine.ErrInvalidRequest, until)
	}
	salt := make([]byte, engine.SCRAMSaltLength)
	if _, err := io.ReadFull(e.rand, salt); err != nil {
		return engine.IssueResponse{}, fmt.Errorf("issue login: read salt: %w", err)
	}
	verifier := engine.SCRAMVerifier(req.Password.Reveal(), salt, e.iterations)
	if !engine.IsSCRAMVerifier(verifier) {
		return engine.IssueResponse{}, errors.New("issue login: internal error: malformed SCRAM verifier")
	}
	wrappers := make([]string, len(groups))
	for i, g := range groups {
		wrappers[i] = wrapperName(e.marker, g)
	}

	c := &issueCall{ctx: ctx, req: req, groups: groups, wrappers: wrappers, verifier: verifier, until: until}
	if e.queue == nil || len(groups) > 0 {
		// Group grants are issued one per transaction.
		return e.issueAlone(c)
	}
	e.queue.do(c, e.runBatch, e.issueAlone)
	return c.resp, c.err
}

// issueAlone issues one login in its own transaction, with retries.
func (e *Engine) issueAlone(c *issueCall) (engine.IssueResponse, error) {
	var resp engine.IssueResponse
	err := e.retry(c.ctx, "issue", func() error {
		var err error
		resp, err = e.issueOnce(c.ctx, c.req, c.groups, c.wrappers, c.verifier, c.until)
		return err
	})
	if err != nil {
		return engine.IssueResponse{}, scrub(err, c.verifier, c.req.Password.Reveal())
	}
	resp.ValidUntil = c.req.ValidUntil.UTC().Truncate(time.Microsecond)
	return resp, nil
}

func (e *Engine) issueOnce(ctx context.Context, req engine.IssueRequest, groups, wrappers []string, verifier, until string) (resp engine.IssueResponse, err error) {
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		return resp, fmt.Errorf("issue login: connect: %w", err)
	}
	defer conn.Release()
	defer func() {
		if err != nil {
			rollback(conn)
		}
	}()

	p, err := e.inspect(ctx, conn, req, groups, wrappers)
	if err != nil {
		return resp, fmt.Errorf("issue login: inspect catalog: %w", err)
	}
	if err := e.check(req, p); err != nil {
		return resp, fmt.Errorf("issue login: %w", err)
	}

	resp = engine.IssueResponse{LoginName: req.LoginName, DbUser: req.DbUser, CreatedUser: !p.userExists, LogsSuppressed: suppressesLogs(p.quiet)}
	login, user := ident(req.LoginName), ident(req.DbUser)

	// Logging is off since inspect: the statement with the verifier comes
	// first, then logging is restored. Only when the db user or the marker
	// must be created first (CREATE ROLE names them) is logging restored
	// for their creation and switched off again.
	off, restore := quietSQL(p.quiet)
	var stmts []stmt
	if !p.markerExists || !p.userExists {
		if restore != "" {
			stmts = append(stmts, plain(restore))
		}
		if !p.markerExists {
			stmts = append(stmts, e.markerDDL(e.marker, "holds every temporary login role dbiam manages")...)
		}
		if !p.userExists {
			stmts = append(stmts, plain("CREATE ROLE "+user+" NOLOGIN"))
		}
		if off != "" {
			stmts = append(stmts, plain(off))
		}
	}
	// IN ROLE: the login is a member of the db user. ROLE: the marker is
	// made a member of the login.
	stmts = append(stmts, plain("CREATE ROLE "+login+" LOGIN NOINHERIT PASSWORD "+quoteLiteral(verifier)+
		" VALID UNTIL "+quoteLiteral(until)+" IN ROLE "+user+" ROLE "+ident(e.marker)))
	if restore != "" {
		stmts = append(stmts, plain(restore))
	}
	stmts = append(stmts, plain("ALTER ROLE "+login+" SET role = "+quoteLiteral(req.DbUser)))
	if req.Comment != "" {
		stmts = append(stmts, plain("COMMENT ON ROLE "+login+" IS "+quoteLiteral(req.Comment)))
	}
	if len(groups) > 0 && !p.gmarkerExists {
		stmts = append(stmts, e.markerDDL(e.groupMarker, "holds the group wrapper roles through which dbiam grants groups")...)
	}
	for _, g := range p.groups {
		w := ident(g.wrapper)
		if !g.wrapperExists {
			stmts = append(stmts, plain("CREATE ROLE "+w+" NOLOGIN"),
				plain("COMMENT ON ROLE "+w+" IS "+quoteLiteral("dbiam: membership in "+g.name+" granted by dbiam")))
		}
		if !g.wrapperHeld {
			stmts = append(stmts, plain("GRANT "+w+" TO "+ident(e.groupMarker)))
		}
		if !g.wrapperInGroup {
			stmts = append(stmts, plain("GRANT "+ident(g.name)+" TO "+w))
		}
		if !g.userInWrapper {
			stmts = append(stmts, plain("GRANT "+w+" TO "+user))
			resp.GrantedGroups = append(resp.GrantedGroups, g.name)
		}
	}
	var grants []dbState
	for _, d := range p.dbs {
		if d.canGrant {
			grants = append(grants, d)
		}
	}
	// ACL rewrites last, under per-database locks taken in oid order, to
	// keep the locked part of the transaction short.
	for _, d := range grants {
		stmts = append(stmts, plain(fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", lockKey(d.oid))))
	}
	for _, d := range grants {
		stmts = append(stmts, plain("GRANT CONNECT ON DATABASE "+ident(d.name)+" TO "+login))
		resp.ConnectGranted = append(resp.ConnectGranted, d.name)
	}
	stmts = append(stmts, plain("COMMIT"))

	if err := execAll(ctx, conn.Conn(), stmts); err != nil {
		return resp, fmt.Errorf("issue login %q: %w", req.LoginName, err)
	}
	if e.observeBatch != nil {
		e.observeBatch(1)
	}
	return resp, nil
}

// markerDDL creates a marker role: it cannot log in, inherits nothing, and
// nobody is made a member of it.
func (e *Engine) markerDDL(name, what string) []stmt {
	return []stmt{
		plain("CREATE ROLE " + ident(name) + " NOLOGIN NOINHERIT"),
		plain("COMMENT ON ROLE " + ident(name) + " IS " + quoteLiteral("dbiam marker role: "+what+"; never grant it to anyone")),
	}
}

// inspect opens the transaction, switches statement logging off and reads
// the catalog, all in one round trip.
func (e *Engine) inspect(ctx context.Context, conn *pgxpool.Conn, req engine.IssueRequest, groups, wrappers []string) (*plan, error) {
	p := &plan{}
	if !e.keepLogging {
		var err error
		if p.quiet, err = e.settable(ctx, conn.Conn()); err != nil {
			return nil, fmt.Errorf("check logging privileges: %w", err)
		}
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	if len(groups) > 0 {
		// Before the reads: a concurrent RevokeGroups for this user either
		// committed (we see its revocation and grant again) or waits.
		b.Queue(userLockSharedSQL, req.DbUser)
	}
	e.queueDatabases(b, req.DbName, p.quiet, &p.dbs)
	e.queueRoles(b, []*plan{p}, []engine.IssueRequest{req})
	if len(groups) > 0 {
		b.Queue(groupsSQL, groups, wrappers, e.marker, e.groupMarker, req.DbUser).Query(func(rows pgx.Rows) error {
			var err error
			p.groups, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (groupState, error) {
				var g groupState
				err := row.Scan(&g.name, &g.exists, &g.notGroup, &g.managed, &g.wrapperExists, &g.wrapperHeld, &g.wrapperInGroup, &g.userInWrapper)
				return g, err
			})
			return err
		})
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		if sqlState(err) == codeInsufficientPriv && len(p.quiet) > 0 {
			// Perhaps a SET privilege was revoked since it was checked:
			// check again on the next attempt.
			e.forgetSettable()
			return nil, &retryable{err}
		}
		return nil, err
	}
	for i := range p.groups {
		p.groups[i].wrapper = wrappers[i]
	}
	return p, nil
}

// queueRoles queues the role read of reqs into b, filling plans (one per
// request) when the batch runs.
func (e *Engine) queueRoles(b *pgx.Batch, plans []*plan, reqs []engine.IssueRequest) {
	logins, users := make([]string, len(reqs)), make([]string, len(reqs))
	for i, r := range reqs {
		logins[i], users[i] = r.LoginName, r.DbUser
	}
	b.Queue(rolesSQL, logins, users, e.marker, e.groupMarker).Query(func(rows pgx.Rows) error {
		i := 0
		for rows.Next() {
			if i >= len(plans) {
				return errors.New("role read: too many rows")
			}
			p := plans[i]
			if err := rows.Scan(&p.loginExists, &p.userExists, &p.userSuper, &p.userManaged, &p.markerExists, &p.gmarkerExists, &p.markersSafe); err != nil {
				return err
			}
			i++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if i != len(plans) {
			return fmt.Errorf("role read: %d rows for %d requests", i, len(plans))
		}
		return nil
	})
}

// queueDatabases queues the read of the databases a login for dbName needs
// CONNECT on into b, filling *dbs when the batch runs, and switches off the
// quiet settings (names from quietSettings) for the rest of the
// transaction.
func (e *Engine) queueDatabases(b *pgx.Batch, dbName string, quiet []string, dbs *[]dbState) {
	quietNames, quietValues := []string{}, []string{}
	for _, q := range quietSettings {
		if slices.Contains(quiet, q.name) {
			quietNames, quietValues = append(quietNames, q.name), append(quietValues, q.value)
		}
	}
	b.Queue(databasesSQL, dbName, e.databases, quietNames, quietValues).QueryRow(func(row pgx.Row) error {
		var quieted int
		var oids []uint32
		var names []string
		var connectable, public, grantable []bool
		if err := row.Scan(&quieted, &oids, &names, &connectable, &public, &grantable); err != nil {
			return err
		}
		*dbs = nil
		for i := range oids {
			*dbs = append(*dbs, dbState{oid: oids[i], name: names[i], connectable: connectable[i], publicConn: public[i], canGrant: grantable[i]})
		}
		return nil
	})
}

// reserved reports whether name is one of the engine's own roles: a
// marker or a group wrapper.
func (e *Engine) reserved(name string) bool {
	return name == e.marker || name == e.groupMarker || strings.HasPrefix(name, e.marker+":")
}

// checkNames refuses requests that name the engine's own roles.
func (e *Engine) checkNames(req engine.IssueRequest) error {
	if e.reserved(req.LoginName) {
		return fmt.Errorf("login name: %w: %q is reserved for dbiam's marker roles", engine.ErrInvalidName, req.LoginName)
	}
	if e.reserved(req.DbUser) {
		return fmt.Errorf("%w: %q is a role managed by dbiam", engine.ErrPrivilegedRole, req.DbUser)
	}
	for _, g := range req.Groups {
		if e.reserved(g) {
			return fmt.Errorf("%w: %q is a role managed by dbiam", engine.ErrNoSuchGroup, g)
		}
	}
	return nil
}

// check turns what inspect found into the request's errors; nothing has
// been written yet.
func (e *Engine) check(req engine.IssueRequest, p *plan) error {
	if p.loginExists {
		return fmt.Errorf("%w: %q", engine.ErrLoginExists, req.LoginName)
	}
	if !p.markersSafe {
		return fmt.Errorf("%w: marker role %q or %q can log in, is a superuser or has members; fix it before issuing logins", engine.ErrPermission, e.marker, e.groupMarker)
	}
	switch {
	case !p.userExists && !req.AutoCreate:
		return fmt.Errorf("%w: %q (AutoCreate is off)", engine.ErrNoSuchUser, req.DbUser)
	case p.userManaged:
		return fmt.Errorf("%w: %q is a role managed by dbiam", engine.ErrPrivilegedRole, req.DbUser)
	case p.userSuper && !e.allowSuper:
		return fmt.Errorf("%w: %q is a superuser", engine.ErrPrivilegedRole, req.DbUser)
	}
	for _, g := range p.groups {
		switch {
		case !g.exists:
			return fmt.Errorf("%w: %q", engine.ErrNoSuchGroup, g.name)
		case g.notGroup:
			return fmt.Errorf("%w: %q can log in or is a superuser, so it is not a group", engine.ErrNoSuchGroup, g.name)
		case g.managed:
			return fmt.Errorf("%w: %q is a role managed by dbiam", engine.ErrNoSuchGroup, g.name)
		case g.wrapperExists && !g.wrapperHeld:
			return fmt.Errorf("%w: a role named %q, which dbiam needs for group %q, exists and is not dbiam's", engine.ErrPermission, g.wrapper, g.name)
		}
	}
	if req.DbName != "" {
		if len(p.dbs) == 0 || !p.dbs[0].connectable {
			return fmt.Errorf("%w: %q (or it accepts no connections, or is not a managed database)", engine.ErrNoSuchDatabase, req.DbName)
		}
		if d := p.dbs[0]; !d.canGrant && !d.publicConn {
			return fmt.Errorf("%w: cannot grant CONNECT on database %q (needs CONNECT WITH GRANT OPTION)", engine.ErrPermission, d.name)
		}
	}
	return nil
}

// timestampRE is the only shape of VALID UNTIL literal Issue embeds.
var timestampRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\+00:00$`)

// wrapperName is the wrapper role through which dbiam grants group: the
// marker, a colon and the group name; when that exceeds 63 bytes, the group
// name is shortened and a hash of it appended.
func wrapperName(marker, group string) string {
	name := marker + ":" + group
	if len(name) <= engine.MaxNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(group))
	suffix := "~" + hex.EncodeToString(sum[:5])
	keep := engine.MaxNameLength - len(marker) - 1 - len(suffix)
	g := group[:keep]
	for !utf8.ValidString(g) {
		g = g[:len(g)-1]
	}
	return marker + ":" + g + suffix
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// DirectDDL issues the statements Issue writes for a login, straight and
// in one round trip: BEGIN, CREATE ROLE … PASSWORD … VALID UNTIL … IN ROLE
// <dbuser> ROLE <marker>, ALTER ROLE … SET role, COMMENT ON ROLE, the
// CONNECT grant when req.DbName is set, COMMIT. It reads no catalog,
// creates no db user, marker or group, does not suppress logging and does
// not retry: it is the ceiling that benchmarks compare Issue with, not an
// API. The db user and the marker role (created by a first Issue) must
// exist.
func (e *Engine) DirectDDL(ctx context.Context, req engine.IssueRequest) error {
	if err := req.Validate(e.now()); err != nil {
		return fmt.Errorf("direct DDL: %w", err)
	}
	salt := make([]byte, engine.SCRAMSaltLength)
	if _, err := io.ReadFull(e.rand, salt); err != nil {
		return fmt.Errorf("direct DDL: read salt: %w", err)
	}
	verifier := engine.SCRAMVerifier(req.Password.Reveal(), salt, e.iterations)
	until := req.ValidUntil.UTC().Truncate(time.Microsecond).Format("2006-01-02 15:04:05.000000-07:00")
	if !engine.IsSCRAMVerifier(verifier) || !timestampRE.MatchString(until) {
		return fmt.Errorf("direct DDL: %w: verifier or expiry out of range", engine.ErrInvalidRequest)
	}
	login, user := ident(req.LoginName), ident(req.DbUser)
	stmts := []stmt{
		plain("BEGIN"),
		plain("CREATE ROLE " + login + " LOGIN NOINHERIT PASSWORD " + quoteLiteral(verifier) +
			" VALID UNTIL " + quoteLiteral(until) + " IN ROLE " + user + " ROLE " + ident(e.marker)),
		plain("ALTER ROLE " + login + " SET role = " + quoteLiteral(req.DbUser)),
	}
	if req.Comment != "" {
		stmts = append(stmts, plain("COMMENT ON ROLE "+login+" IS "+quoteLiteral(req.Comment)))
	}
	if req.DbName != "" {
		stmts = append(stmts,
			plain("SELECT pg_advisory_xact_lock("+lockKeySQL+") FROM pg_database WHERE datname = "+quoteLiteral(req.DbName)),
			plain("GRANT CONNECT ON DATABASE "+ident(req.DbName)+" TO "+login))
	}
	stmts = append(stmts, plain("COMMIT"))
	if err := e.execPool(ctx, stmts...); err != nil {
		return scrub(fmt.Errorf("direct DDL: %w", err), verifier, req.Password.Reveal())
	}
	return nil
}

// lockKeySQL computes lockKey(oid) in SQL for a row of pg_database.
const lockKeySQL = "(x'64626961'::bigint << 32) | oid::bigint"
