package credcache_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/credcache"
)

func TestCredentialNeverPrintsItsPassword(t *testing.T) {
	const password = "s3cr3t-Pa55w0rd"
	cred := credcache.Credential{User: "IAMA:alice:x", Password: password, Expiration: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	type holder struct {
		Cred credcache.Credential
		Ptr  *credcache.Credential
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outputs = append(outputs, fmt.Sprintf(verb, cred), fmt.Sprintf(verb, &cred), fmt.Sprintf(verb, holder{cred, &cred}), fmt.Sprintf(verb, []credcache.Credential{cred}))
	}
	outputs = append(outputs, fmt.Sprint(cred), fmt.Sprintln(cred), cred.String(), cred.GoString())
	j, err := json.Marshal(holder{cred, &cred})
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j))
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("x", "cred", cred, "ptr", &cred)
		outputs = append(outputs, buf.String())
	}
	for _, out := range outputs {
		if strings.Contains(out, password) {
			t.Errorf("the password leaks: %s", out)
		}
		if !strings.Contains(out, "IAMA:alice:x") {
			t.Errorf("the user is missing: %s", out)
		}
	}
	if got, want := fmt.Sprintf("%v", cred), "{User:IAMA:alice:x Password:[redacted] Expiration:2030-01-02T03:04:05Z}"; got != want {
		t.Errorf("%%v = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%#v", cred), `credcache.Credential{User:"IAMA:alice:x", Password:"[redacted]", Expiration:2030-01-02T03:04:05Z}`; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
}

func TestCredentialValidAt(t *testing.T) {
	now := time.Now()
	for name, tt := range map[string]struct {
		cred credcache.Credential
		want bool
	}{
		"valid":          {credcache.Credential{User: "u", Password: "p", Expiration: now.Add(time.Second)}, true},
		"expired":        {credcache.Credential{User: "u", Password: "p", Expiration: now}, false},
		"never expires":  {credcache.Credential{User: "u", Password: "p"}, true},
		"empty password": {credcache.Credential{User: "u", Expiration: now.Add(time.Hour)}, false},
	} {
		if got := tt.cred.ValidAt(now); got != tt.want {
			t.Errorf("%s: ValidAt = %v", name, got)
		}
	}
}

// TestImportsOnlyStandardLibrary keeps the package dependency-free.
func TestImportsOnlyStandardLibrary(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s, which is not in the standard library", name, path)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source files")
	}
}
