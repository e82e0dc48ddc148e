package dispatch_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/dbiam/dbiam/internal/audit"
	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/dispatch"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/awsproto/sigv4"
	"github.com/dbiam/dbiam/internal/identity"
)

const (
	keyID     = "AKIDEXAMPLEEXAMPLE01"
	secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

type echoInput struct {
	Name string `query:"Name,required"`
}

type echoResult struct {
	Name      string `xml:"Name"`
	Principal string `xml:"Principal"`
}

func newDispatcher(t *testing.T, logs io.Writer) *dispatch.Dispatcher {
	t.Helper()
	lookup := sigv4.LookupFunc(func(_ context.Context, req sigv4.LookupRequest) (sigv4.Credential, error) {
		if req.AccessKeyID != keyID {
			return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
		}
		return sigv4.Credential{SecretAccessKey: secretKey, Principal: identity.Root("123456789012", keyID)}, nil
	})
	svc := &dispatch.Service{
		Name: "test", Version: "2020-01-01", Namespace: "https://example.com/doc/2020-01-01/",
		Actions: map[string]dispatch.Action{
			"Echo": {Handler: func(_ context.Context, req *dispatch.Request) (any, error) {
				var in echoInput
				if err := req.Decode(&in); err != nil {
					return nil, err
				}
				return &echoResult{Name: in.Name, Principal: req.Principal.ARN}, nil
			}},
			"Anonymous": {Unsigned: true, Handler: func(_ context.Context, req *dispatch.Request) (any, error) {
				return &echoResult{Principal: string(req.Principal.Kind)}, nil
			}},
			"Panic": {Handler: func(context.Context, *dispatch.Request) (any, error) { panic("boom") }},
			"Fail": {Handler: func(context.Context, *dispatch.Request) (any, error) {
				return nil, errors.New("database password=hunter2 unreachable")
			}},
			"Denied": {Handler: func(context.Context, *dispatch.Request) (any, error) {
				return nil, awserr.New(awserr.AccessDenied, "User: x is not authorized")
			}},
			"NoResult": {Handler: func(context.Context, *dispatch.Request) (any, error) { return nil, nil }},
		},
	}
	d, err := dispatch.New(dispatch.Config{
		Verifier:      &sigv4.Verifier{Lookup: lookup, Now: time.Now},
		DefaultRegion: "us-east-1",
		Now:           time.Now,
		Rand:          rand.Reader,
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, svc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func signedRequest(t *testing.T, service, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8439/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secretKey},
		r, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantBody   []string
	}{
		{"signed call", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=Echo&Version=2020-01-01&Name=a%26b")
		}, 200, []string{`<EchoResponse xmlns="https://example.com/doc/2020-01-01/">`, "<EchoResult>", "<Name>a&amp;b</Name>", "arn:aws:iam::123456789012:root", "<ResponseMetadata><RequestId>"}},
		{"no result element", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=NoResult&Version=2020-01-01")
		}, 200, []string{"<NoResultResponse", "<RequestId>"}},
		{"missing required parameter", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=Echo&Version=2020-01-01")
		}, 400, []string{"<Code>MissingParameter</Code>", "<Type>Sender</Type>"}},
		{"unknown action", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=Nope&Version=2020-01-01")
		}, 400, []string{"<Code>InvalidAction</Code>", "Could not find operation Nope"}},
		{"missing action", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Version=2020-01-01")
		}, 400, []string{"<Code>MissingAction</Code>"}},
		{"wrong version", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=Echo&Version=1999-01-01&Name=x")
		}, 400, []string{"<Code>InvalidAction</Code>"}},
		{"service not served", func(t *testing.T) *http.Request {
			return signedRequest(t, "s3", "Action=Echo&Version=2020-01-01&Name=x")
		}, 400, []string{"<Code>InvalidAction</Code>", "Service s3 is not served"}},
		{"unsigned allow-listed action", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=Anonymous&Version=2020-01-01"))
		}, 200, []string{"<Principal>anonymous</Principal>"}},
		{"unsigned allow-listed action with a bad signature is still anonymous", func(t *testing.T) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=Anonymous&Version=2020-01-01"))
			r.Header.Set("Authorization", "garbage")
			return r
		}, 200, []string{"<Principal>anonymous</Principal>"}},
		{"unsigned other action", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=Echo&Version=2020-01-01&Name=x"))
		}, 403, []string{"<Code>MissingAuthenticationToken</Code>"}},
		{"handler panic", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=Panic&Version=2020-01-01")
		}, 500, []string{"<Code>InternalFailure</Code>", "<Type>Receiver</Type>"}},
		{"internal error detail stays out of the response", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=Fail&Version=2020-01-01")
		}, 500, []string{"<Code>InternalFailure</Code>"}},
		{"api error passes through", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=Denied&Version=2020-01-01")
		}, 403, []string{"<Code>AccessDenied</Code>", "not authorized"}},
		{"wrong method", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPut, "/", strings.NewReader("Action=Echo"))
		}, 405, []string{"<Code>MethodNotAllowed</Code>"}},
		{"wrong path", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/other", strings.NewReader("Action=Echo"))
		}, 404, []string{"<Code>NotFound</Code>"}},
		{"wrong content type", func(t *testing.T) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"Action":"Echo"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 415, []string{"<Code>UnsupportedMediaType</Code>"}},
		{"body too large", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=Echo&X="+strings.Repeat("a", query.MaxBodyBytes)))
		}, 413, []string{"<Code>RequestEntityTooLarge</Code>"}},
		{"duplicate Action", func(t *testing.T) *http.Request {
			return signedRequest(t, "test", "Action=Echo&Action=Panic&Version=2020-01-01&Name=x")
		}, 404, []string{"<Code>MalformedQueryString</Code>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			d := newDispatcher(t, &logs)
			w := httptest.NewRecorder()
			d.ServeHTTP(w, tt.req(t))
			body := w.Body.String()
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d\n%s", w.Code, tt.wantStatus, body)
			}
			if body == "" {
				t.Fatal("empty body")
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%s", want, body)
				}
			}
			id := w.Header().Get("x-amzn-RequestId")
			if len(id) != 36 || !strings.Contains(body, id) {
				t.Errorf("request id %q missing from header or body", id)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type = %q", ct)
			}
			for _, leak := range []string{"hunter2", "boom", secretKey} {
				if strings.Contains(body, leak) {
					t.Errorf("response leaks %q", leak)
				}
			}
			if strings.Contains(logs.String(), secretKey) {
				t.Error("log contains the secret key")
			}
		})
	}
}

func TestDuplicateServiceRejected(t *testing.T) {
	s := &dispatch.Service{Name: "x", Version: "1", Actions: map[string]dispatch.Action{}}
	_, err := dispatch.New(dispatch.Config{Verifier: &sigv4.Verifier{}, Now: time.Now, Rand: rand.Reader, Logger: slog.New(slog.DiscardHandler)}, s, s)
	if err == nil {
		t.Fatal("want error for a service registered twice")
	}
}

type recordingSink struct{ events []audit.Event }

func (s *recordingSink) Record(_ context.Context, e audit.Event) { s.events = append(s.events, e) }

func TestAuditEventPerCall(t *testing.T) {
	sink := &recordingSink{}
	lookup := sigv4.LookupFunc(func(_ context.Context, req sigv4.LookupRequest) (sigv4.Credential, error) {
		return sigv4.Credential{SecretAccessKey: secretKey, Principal: identity.Root("123456789012", keyID)}, nil
	})
	svc := &dispatch.Service{Name: "test", Version: "2020-01-01", Actions: map[string]dispatch.Action{
		"Denied": {Handler: func(_ context.Context, req *dispatch.Request) (any, error) {
			req.RecordDecision(audit.Decision{Action: "test:Denied", Resource: "arn:aws:test:::x", Effect: "explicitDeny", Matched: []string{"p#s"}})
			return nil, awserr.New(awserr.AccessDenied, "no")
		}},
	}}
	d, err := dispatch.New(dispatch.Config{Verifier: &sigv4.Verifier{Lookup: lookup, Now: time.Now}, Now: time.Now, Rand: rand.Reader,
		Logger: slog.New(slog.DiscardHandler), Audit: sink}, svc)
	if err != nil {
		t.Fatal(err)
	}
	body := "Action=Denied&Version=2020-01-01&Secret=" + secretKey
	d.ServeHTTP(httptest.NewRecorder(), signedRequest(t, "test", body))
	d.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=Denied&Version=2020-01-01")))
	if len(sink.events) != 2 {
		t.Fatalf("got %d events, want one per call", len(sink.events))
	}
	e := sink.events[0]
	if e.Principal != "arn:aws:iam::123456789012:root" || e.ErrorCode != "AccessDenied" || e.HTTPStatus != 403 || e.Action != "Denied" ||
		len(e.Decisions) != 1 || e.Decisions[0].Effect != "explicitDeny" || e.AccessKeyID != keyID {
		t.Errorf("event %+v", e)
	}
	if strings.Contains(fmt.Sprintf("%+v", sink.events), secretKey) {
		t.Error("audit event contains a secret")
	}
	if sink.events[1].ErrorCode != "MissingAuthenticationToken" || sink.events[1].Principal != "" {
		t.Errorf("unauthenticated event %+v", sink.events[1])
	}
}
