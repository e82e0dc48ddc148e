package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

func TestLogSink(t *testing.T) {
	var buf bytes.Buffer
	sink := LogSink{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	sink.Record(context.Background(), Event{
		Time: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), RequestID: "rid", Principal: "arn:aws:iam::123456789012:user/alice",
		AccessKeyID: "AKIAALICE", SourceIP: "127.0.0.1", Service: "iam", Action: "CreateUser", HTTPStatus: 403, ErrorCode: "AccessDenied",
		Decisions: []Decision{{Action: "iam:CreateUser", Resource: "arn:aws:iam::123456789012:user/bob", Effect: "explicitDeny", Matched: []string{"user/alice/inline/p#Deny"}}},
	})
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if rec["msg"] != "audit" || rec["principal"] != "arn:aws:iam::123456789012:user/alice" || rec["error_code"] != "AccessDenied" {
		t.Errorf("record %v", rec)
	}
	d := rec["decisions"].(map[string]any)["0"].(map[string]any)
	if d["decision"] != "explicitDeny" || d["resource"] != "arn:aws:iam::123456789012:user/bob" {
		t.Errorf("decision %v", d)
	}
}
