package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		getVanillaAuth,
		"AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7EXAMPLE/20260301/us-east-1/sts/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token, Signature=" + getVanillaSig,
		"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,SignedHeaders=host,Signature=" + getVanillaSig,
		"AWS4-HMAC-SHA256  Credential=a/b/c/d/e , SignedHeaders=host;;x , Signature=,",
		"AWS4-HMAC-SHA256 Credential=, Credential=, Signature=Signature=",
		"AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/service/aws4_request",
		"AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
		"Bearer abc",
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ,,,",
		"AWS4-HMAC-SHA256 Credential=\x00/\xff/ሴ/\t/aws4_request, SignedHeaders=host, Signature=zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		p, e := parseAuthorization(h)
		if e != nil {
			if e.Code != IncompleteSignature {
				t.Fatalf("code %s for %q", e.Code, h)
			}
			if e.Message == "" {
				t.Fatalf("empty message for %q", h)
			}
			for i := 0; i < len(e.Message); i++ {
				if c := e.Message[i]; c < 0x20 || c > 0x7e {
					t.Fatalf("message has byte %#x: %q", c, e.Message)
				}
			}
			return
		}
		if !strings.HasPrefix(h, algorithmHMAC+" ") {
			t.Fatalf("accepted %q", h)
		}
		if p.accessKeyID == "" || len(p.scopeDate) != 8 || !allDigits(p.scopeDate) || p.service == "" {
			t.Fatalf("accepted bad scope %+v from %q", p, h)
		}
		if checkSignedHeaders(p.signedHeaders) != nil || !hasSignedHeader(p.signedHeaders, "host") {
			t.Fatalf("accepted bad SignedHeaders %q from %q", p.signedHeaders, h)
		}
		if strings.Count(h, "Credential=") < 1 || strings.Count(h, "Signature=") < 1 {
			t.Fatalf("accepted %q without required fields", h)
		}
	})
}

// fuzzRequest builds a request from loose parts without net/http's parser,
// so Verify sees shapes a server never delivers too (raw header keys, odd
// hosts, any method).
func fuzzRequest(method, target, headers string) *http.Request {
	path, query, _ := strings.Cut(target, "?")
	u := &url.URL{RawPath: path, RawQuery: query}
	if p, err := url.PathUnescape(path); err == nil {
		u.Path = p
	} else {
		u.Path = path
	}
	r := &http.Request{Method: method, URL: u, RequestURI: target, Header: http.Header{}}
	for line := range strings.SplitSeq(headers, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimLeft(v, " ")
		switch {
		case strings.EqualFold(k, "host"):
			r.Host = v
		case strings.HasPrefix(k, "raw-"):
			// A key that is not in canonical form.
			r.Header[k[len("raw-"):]] = append(r.Header[k[len("raw-"):]], v)
		default:
			r.Header.Add(k, v)
		}
	}
	return r
}

func FuzzVerify(f *testing.F) {
	for _, tc := range append(suiteVectors(), suitePresignedVectors()...) {
		head, body, _ := strings.Cut(tc.raw, "\n\n")
		first, headers, _ := strings.Cut(head, "\n")
		method, rest, _ := strings.Cut(first, " ")
		target := rest[:strings.LastIndexByte(rest, ' ')]
		f.Add(method, target, headers, []byte(body))
	}
	f.Add("POST", "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&Authorization=x", "Authorization:\nraw-x-amz-date:20150830T123600Z", []byte("x"))
	f.Add("", "", "", []byte(nil))
	f.Add("GET", "%zz?%zz=%", "X-Amz-Security-Token:a\nX-Amz-Security-Token:b", []byte{0xff})
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte) {
		r := fuzzRequest(method, target, headers)
		v := suiteVerifier(t)
		res, err := v.Verify(t.Context(), r, body)
		_ = IsSigned(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				if !strings.Contains(err.Error(), "sigv4: verify:") {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			if strings.Contains(e.Message, suiteSecret) {
				t.Fatalf("secret in message %q", e.Message)
			}
			return
		}
		if res.AccessKeyID != suiteAKID || res.Credential.SecretAccessKey != suiteSecret || !hasSignedHeader(strings.Join(res.SignedHeaders, ";"), "host") {
			t.Fatalf("result %+v", res)
		}
	})
}
