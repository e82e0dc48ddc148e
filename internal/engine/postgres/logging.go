package postgres

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// quietSettings are the settings that could write the statement carrying
// the verifier to the server log or a statistics view, with the value that
// stops them. Names and values are constants: they are written into SQL.
var quietSettings = [...]struct{ name, value string }{
	{"log_statement", "none"},
	{"log_min_error_statement", "panic"},
	{"log_min_duration_statement", "-1"},
	{"log_min_duration_sample", "-1"},
	{"log_transaction_sample_rate", "0"},
	{"debug_print_parse", "off"},
	{"debug_print_rewritten", "off"},
	{"debug_print_plan", "off"},
	{"pg_stat_statements.track_utility", "off"},
	{"pgaudit.log", "none"},
}

// settableSQL returns the quietSettings that exist on the server and that
// the admin may set: SET granted on the parameter, or superuser
// (has_parameter_privilege is PostgreSQL 15's; settableSQL14 serves older
// servers, where only a superuser may set them).
const settableSQL = `
SELECT coalesce(array_agg(name), '{}')
FROM unnest($1::text[]) AS name
WHERE CASE WHEN current_setting(name, true) IS NULL THEN false
           ELSE has_parameter_privilege(name, 'SET') END`

const settableSQL14 = `
SELECT coalesce(array_agg(name), '{}')
FROM unnest($1::text[]) AS name
WHERE current_setting(name, true) IS NOT NULL
	AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)`

// quietCacheTTL bounds how long the list of settable settings is trusted.
const quietCacheTTL = time.Minute

// quietCache remembers which quietSettings the admin may set, so that the
// hot path does not check privileges each time. A SET refused meanwhile
// (privilege revoked) clears it and the Issue is retried.
type quietCache struct {
	mu      sync.Mutex
	names   []string // indexes into quietSettings would do; names read better
	fetched time.Time
}

// settable returns the names of the quietSettings the admin may set,
// querying the server over conn (the caller's connection: taking another
// from the pool could exhaust it) when the cache is empty or stale.
func (e *Engine) settable(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	c := &e.quiet
	c.mu.Lock()
	names, fetched := c.names, c.fetched
	c.mu.Unlock()
	if !fetched.IsZero() && time.Since(fetched) < quietCacheTTL {
		return names, nil
	}
	all := make([]string, len(quietSettings))
	for i, s := range quietSettings {
		all[i] = s.name
	}
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return nil, err
	}
	query := settableSQL
	if version < 150000 {
		query = settableSQL14
	}
	if err := conn.QueryRow(ctx, query, all).Scan(&names); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.names, c.fetched = names, time.Now()
	c.mu.Unlock()
	return names, nil
}

// forgetSettable drops the cache (after a SET LOCAL was refused).
func (e *Engine) forgetSettable() {
	e.quiet.mu.Lock()
	e.quiet.fetched = time.Time{}
	e.quiet.mu.Unlock()
}

// quietSQL returns the statement that switches the given settings off for
// the rest of the transaction and the one that puts them back to the
// session's values (set_config with a NULL value resets), or "" when there
// is nothing to switch. Names and values come from quietSettings.
func quietSQL(names []string) (off, restore string) {
	var offs, backs []string
	for _, s := range quietSettings {
		if slices.Contains(names, s.name) {
			offs = append(offs, "set_config('"+s.name+"', '"+s.value+"', true)")
			backs = append(backs, "set_config('"+s.name+"', NULL, true)")
		}
	}
	if len(offs) == 0 {
		return "", ""
	}
	return "SELECT " + strings.Join(offs, ", "), "SELECT " + strings.Join(backs, ", ")
}

// suppressesLogs reports whether names include the settings that write
// statements to the server log.
func suppressesLogs(names []string) bool {
	n := 0
	for _, name := range names {
		switch name {
		case "log_statement", "log_min_error_statement", "log_min_duration_statement":
			n++
		}
	}
	return n == 3
}
