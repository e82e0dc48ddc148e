package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/secret"
)

const plain = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

type holder struct {
	Name   string
	Secret secret.String
	Ptr    *secret.String
}

func checkRedacted(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, plain) || strings.Contains(out, "wJalr") {
		t.Errorf("%s leaked the secret: %s", what, out)
	}
	if !strings.Contains(out, secret.Redacted) {
		t.Errorf("%s = %q, want it to contain %q", what, out, secret.Redacted)
	}
}

func TestReveal(t *testing.T) {
	s := secret.String(plain)
	if got := s.Reveal(); got != plain {
		t.Fatalf("Reveal() = %q, want %q", got, plain)
	}
	if s.IsZero() || !secret.String("").IsZero() {
		t.Fatal("IsZero is wrong")
	}
}

func TestFmt(t *testing.T) {
	s := secret.String(plain)
	h := holder{Name: "n", Secret: s, Ptr: &s}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-20v"} {
		checkRedacted(t, "Sprintf("+verb+", s)", fmt.Sprintf(verb, s))
		checkRedacted(t, "Sprintf("+verb+", &s)", fmt.Sprintf(verb, &s))
		if verb != "%x" && verb != "%X" && verb != "%d" {
			checkRedacted(t, "Sprintf("+verb+", struct)", fmt.Sprintf(verb, h))
		}
		checkRedacted(t, "Sprintf("+verb+", slice)", fmt.Sprintf(verb, []secret.String{s}))
		checkRedacted(t, "Sprintf("+verb+", map)", fmt.Sprintf(verb, map[string]secret.String{"k": s}))
	}
	checkRedacted(t, "Sprint", fmt.Sprint(s))
	checkRedacted(t, "Sprintln", fmt.Sprintln(s))
	checkRedacted(t, "String()", s.String())
	checkRedacted(t, "GoString()", s.GoString())
	checkRedacted(t, "error", fmt.Errorf("connect with %v: %w", s, errors.New("boom")).Error())
	if got := fmt.Sprintf("%q", s); got != `"[redacted]"` {
		t.Errorf("%%q = %s, want %q", got, `"[redacted]"`)
	}
}

func TestJSONAndText(t *testing.T) {
	s := secret.String(plain)
	b, err := json.Marshal(holder{Name: "n", Secret: s, Ptr: &s})
	if err != nil {
		t.Fatal(err)
	}
	checkRedacted(t, "json.Marshal(struct)", string(b))
	b, err = json.Marshal(map[string]secret.String{"k": s})
	if err != nil {
		t.Fatal(err)
	}
	checkRedacted(t, "json.Marshal(map value)", string(b))
	txt, err := s.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	checkRedacted(t, "MarshalText", string(txt))
	y, err := s.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	checkRedacted(t, "MarshalYAML", fmt.Sprint(y))
}

func TestSlog(t *testing.T) {
	s := secret.String(plain)
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	}
	for name, mk := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(mk(&buf))
			log.Info("kv", "secret", s)
			log.Info("attr", slog.Any("secret", s))
			log.Info("ptr", "secret", &s)
			log.Info("group", slog.Group("g", "secret", s))
			log.Info("struct", "holder", holder{Name: "n", Secret: s, Ptr: &s})
			log.With("secret", s).Info("with")
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 6 {
				t.Fatalf("got %d log lines, want 6:\n%s", len(lines), buf.String())
			}
			for _, line := range lines {
				checkRedacted(t, name+" log line", line)
			}
		})
	}
}
