package postgres

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// quietSettings are the settings that could write the statement carrying
// the verifier to the server log or a statistics view, with the value that
// stops them. Names and values are constants: they are written into SQL.
// The first essentialQuietSettings are always switched off.
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

const essentialQuietSettings = 3

// settableSQL returns the quietSettings that exist on the server and that
// the admin may set: superuser, or SET granted on the parameter
// (PostgreSQL 15's has_parameter_privilege).
const settableSQL = `
SELECT coalesce(array_agg(name), '{}')
FROM unnest($1::text[]) AS name
WHERE CASE WHEN current_setting(name, true) IS NULL THEN false
           WHEN current_setting('server_version_num')::int < 150000
                THEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           ELSE has_parameter_privilege(name, 'SET') END`

// quietCacheTTL bounds how long the list of settable settings is trusted.
const quietCacheTTL = time.Minute

// quietCache remembers which quietSettings the admin may set, so that the
// hot path sends constant SET LOCAL statements without checking privileges
// each time.
type quietCache struct {
	mu      sync.Mutex
	names   []string // indexes into quietSettings would do; names read better
	fetched time.Time
}

// settable returns the names of the quietSettings the admin may set,
// querying the server when the cache is empty or stale.
func (e *Engine) settable(ctx context.Context, conn *pgxpool.Conn) ([]string, error) {
	c := &e.quiet
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fetched.IsZero() && time.Since(c.fetched) < quietCacheTTL {
		return c.names, nil
	}
	all := make([]string, len(quietSettings))
	for i, s := range quietSettings {
		all[i] = s.name
	}
	var names []string
	if err := conn.QueryRow(ctx, settableSQL, all).Scan(&names); err != nil {
		return nil, err
	}
	c.names, c.fetched = names, time.Now()
	return names, nil
}

// forgetSettable drops the cache (after a SET LOCAL was refused).
func (e *Engine) forgetSettable() {
	e.quiet.mu.Lock()
	e.quiet.fetched = time.Time{}
	e.quiet.mu.Unlock()
}

// quietSQL returns the SET LOCAL statements that switch settings off around
// the statement carrying the verifier, and those that put them back to the
// session's values. names are the settings the admin may set; current are
// the current values of quietSettings, in order (nil: the setting does not
// exist). The three settings that log statements are always switched;
// the others (sampling, debug printing, extensions) only when they are not
// already quiet: each SET LOCAL is a statement, and Issue's throughput is
// measured in statements.
func quietSQL(names []string, current []*string) (off, restore []string) {
	for i, s := range quietSettings {
		if !slices.Contains(names, s.name) {
			continue
		}
		if i >= essentialQuietSettings && i < len(current) && (current[i] == nil || *current[i] == s.value) {
			continue
		}
		off = append(off, "SET LOCAL "+s.name+" = '"+s.value+"'")
		restore = append(restore, "SET LOCAL "+s.name+" TO DEFAULT")
	}
	return off, restore
}

// currentSettingsSQL is an SQL expression: the current values of
// quietSettings, in order, as a text array (NULL for settings that do not
// exist). A test keeps it in step with quietSettings.
const currentSettingsSQL = `ARRAY[current_setting('log_statement', true), ` +
	`current_setting('log_min_error_statement', true), ` +
	`current_setting('log_min_duration_statement', true), ` +
	`current_setting('log_min_duration_sample', true), ` +
	`current_setting('log_transaction_sample_rate', true), ` +
	`current_setting('debug_print_parse', true), ` +
	`current_setting('debug_print_rewritten', true), ` +
	`current_setting('debug_print_plan', true), ` +
	`current_setting('pg_stat_statements.track_utility', true), ` +
	`current_setting('pgaudit.log', true)]::text[]`

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
