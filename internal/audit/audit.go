package audit

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// Decision is one authorization decision taken while serving a call.
type Decision struct {
	Action   string // e.g. "iam:CreateUser"
	Resource string // ARN
	Effect   string // "allowed", "explicitDeny" or "implicitDeny"
	// Matched names the statements that decided, e.g.
	// "user/alice/inline/Admin#AllowAll"; empty for an implicit deny.
	Matched []string
}

// Event is the audit record of one API call.
type Event struct {
	Time        time.Time
	RequestID   string
	Principal   string // ARN; empty when authentication failed
	AccessKeyID string
	SourceIP    string
	Service     string
	Action      string
	Decisions   []Decision
	ErrorCode   string // empty on success
	HTTPStatus  int
}

// Sink receives audit events. Implementations must be safe for concurrent
// use and must not block the request for long.
type Sink interface {
	Record(ctx context.Context, e Event)
}

// LogSink writes events as structured log records with the message "audit".
type LogSink struct {
	Logger *slog.Logger
}

var _ Sink = LogSink{}

// Record implements Sink.
func (s LogSink) Record(ctx context.Context, e Event) {
	attrs := []slog.Attr{
		slog.Time("time", e.Time),
		slog.String("request_id", e.RequestID),
		slog.String("principal", e.Principal),
		slog.String("access_key_id", e.AccessKeyID),
		slog.String("source_ip", e.SourceIP),
		slog.String("service", e.Service),
		slog.String("action", e.Action),
		slog.Int("status", e.HTTPStatus),
	}
	if e.ErrorCode != "" {
		attrs = append(attrs, slog.String("error_code", e.ErrorCode))
	}
	if len(e.Decisions) > 0 {
		ds := make([]any, 0, len(e.Decisions))
		for i, d := range e.Decisions {
			ds = append(ds, slog.Group(strconv.Itoa(i),
				slog.String("action", d.Action),
				slog.String("resource", d.Resource),
				slog.String("decision", d.Effect),
				slog.Any("matched", d.Matched)))
		}
		attrs = append(attrs, slog.Group("decisions", ds...))
	}
	s.Logger.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
}
