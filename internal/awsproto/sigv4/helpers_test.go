package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Credentials and clock of the AWS SigV4 test suite.
const (
	suiteAKID   = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteAmz    = "20150830T123600Z"
)

func suiteTime() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) }

// staticLookup is a fake CredentialLookup over a fixed key table that records
// what it was asked.
type staticLookup struct {
	keys  map[string]string // access key id -> secret
	err   error             // returned for every call when set
	calls []LookupRequest
}

func (l *staticLookup) LookupCredential(_ context.Context, req LookupRequest) (Credential, error) {
	l.calls = append(l.calls, req)
	if l.err != nil {
		return Credential{}, l.err
	}
	s, ok := l.keys[req.AccessKeyID]
	if !ok {
		return Credential{}, errors.Join(ErrUnknownAccessKey, errors.New("key "+req.AccessKeyID))
	}
	return Credential{SecretAccessKey: s, Principal: "principal:" + req.AccessKeyID}, nil
}

func newVerifier(t testing.TB, now time.Time, keys map[string]string) (*Verifier, *staticLookup) {
	t.Helper()
	l := &staticLookup{keys: keys}
	return &Verifier{Lookup: l, Now: func() time.Time { return now }}, l
}

func suiteVerifier(t testing.TB) *Verifier {
	t.Helper()
	v, _ := newVerifier(t, suiteTime(), map[string]string{suiteAKID: suiteSecret})
	return v
}

// rawRequest is a request parsed by hand from test-suite text: it allows what
// http.ReadRequest refuses (a space in the path) and keeps the header order.
type rawRequest struct {
	req  *http.Request
	body []byte
}

// parseRaw parses "METHOD target HTTP/1.1\nName:value\n...\n\nbody". The
// target is split at the first and last space, as the test suite intends.
func parseRaw(t testing.TB, raw string) rawRequest {
	t.Helper()
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(strings.TrimSuffix(head, "\n"), "\n")
	first := lines[0]
	sp1 := strings.IndexByte(first, ' ')
	sp2 := strings.LastIndexByte(first, ' ')
	if sp1 < 0 || sp2 <= sp1 {
		t.Fatalf("bad request line %q", first)
	}
	method, target := first[:sp1], first[sp1+1:sp2]
	path, query, _ := strings.Cut(target, "?")
	dpath, err := url.PathUnescape(path)
	if err != nil {
		t.Fatalf("bad path %q: %v", path, err)
	}
	r := &http.Request{
		Method:     method,
		URL:        &url.URL{Path: dpath, RawPath: path, RawQuery: query},
		RequestURI: target,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{},
		Body:   failingBody{t},
	}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("bad header line %q", l)
		}
		value = strings.Trim(value, " \t")
		if strings.EqualFold(name, "Host") {
			r.Host = value
			continue
		}
		r.Header.Add(name, value)
	}
	return rawRequest{req: r, body: []byte(body)}
}

// readWire parses raw HTTP/1.1 bytes the way net/http's server does, and
// reads the body. ok is false if the bytes are not a request.
func readWire(raw []byte) (*http.Request, []byte, bool) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, nil, false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, false
	}
	return r, body, true
}

// toWire serializes a client request and parses it back as a server would.
func toWire(t testing.TB, r *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatalf("write request: %v", err)
	}
	sr, body, ok := readWire(buf.Bytes())
	if !ok {
		t.Fatalf("cannot re-read request:\n%s", buf.Bytes())
	}
	sr.Body = failingBody{t}
	return sr, body
}

// failingBody fails the test if Verify reads the body.
type failingBody struct{ t testing.TB }

func (b failingBody) Read([]byte) (int, error) {
	b.t.Error("Verify read r.Body")
	return 0, io.EOF
}

func (failingBody) Close() error { return nil }

// wantCode asserts that err is an *Error with the given code.
func wantCode(t testing.TB, err error, code ErrorCode) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%q), want %s", e.Code, e.Message, code)
	}
	return e
}
