package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Credential is what a lookup returns for an access key id.
type Credential struct {
	SecretAccessKey string // never logged, never in an error
	// Principal is opaque to this package; the caller's lookup puts whatever
	// it needs here (dbiam puts an identity.Principal) and gets it back in
	// Result.
	Principal any
}

// LookupRequest is what the verifier knows when it asks for the secret.
type LookupRequest struct {
	AccessKeyID string
	// SecurityToken is X-Amz-Security-Token (the header, or the query
	// parameter of a presigned request); "" if absent. It is covered by the
	// signature: Verify rejects an unsigned token header.
	SecurityToken   string
	Region, Service string    // from the credential scope
	Time            time.Time // the request's signing time
}

// CredentialLookup resolves an access key. It returns an error wrapping
// ErrUnknownAccessKey for an unknown key (Verify answers
// InvalidClientTokenId). Any other error is returned by Verify unchanged, so
// the caller can map, say, an expired session to ExpiredToken itself.
type CredentialLookup interface {
	LookupCredential(ctx context.Context, req LookupRequest) (Credential, error)
}

// LookupFunc adapts a function to CredentialLookup.
type LookupFunc func(ctx context.Context, req LookupRequest) (Credential, error)

// LookupCredential calls f.
func (f LookupFunc) LookupCredential(ctx context.Context, req LookupRequest) (Credential, error) {
	return f(ctx, req)
}

var _ CredentialLookup = LookupFunc(nil)

// DefaultMaxSkew is the clock skew AWS tolerates between signer and server.
const DefaultMaxSkew = 15 * time.Minute

// Verifier checks AWS Signature Version 4 (AWS4-HMAC-SHA256) signatures.
// A Verifier is safe for concurrent use once configured.
type Verifier struct {
	// Lookup resolves access keys; required.
	Lookup CredentialLookup
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is the accepted difference between the request's signing time
	// and Now; 0 (or negative) means DefaultMaxSkew.
	MaxSkew time.Duration
	// AllowRegion decides whether a credential-scope region is acceptable.
	// An empty region, or one that is not [a-z0-9-]+, is always rejected;
	// nil accepts every other region.
	AllowRegion func(region string) bool
	// AllowService decides whether a credential-scope service is acceptable.
	// A service that is not [a-z0-9-]+ is always rejected; nil accepts every
	// other service (the caller routes by Result.Service).
	AllowService func(service string) bool
}

// Result describes a verified request.
type Result struct {
	AccessKeyID, Region, Service string
	// Time is the signing time (X-Amz-Date, or Date).
	Time time.Time
	// SignedHeaders are the lowercase names the signature covers. Decisions
	// must only ever use these headers (and the query and body).
	SignedHeaders []string
	SecurityToken string
	Presigned     bool
	Credential    Credential // as returned by Lookup
}

// Query parameters of a presigned request.
const (
	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramExpires       = "X-Amz-Expires"
	paramSecurityToken = "X-Amz-Security-Token"
	paramContentSHA256 = "X-Amz-Content-Sha256"
)

// Payload-hash values for signing modes these APIs do not support.
const (
	unsignedPayload = "UNSIGNED-PAYLOAD"
	streamingPrefix = "STREAMING-"
)

// isPresignParam reports whether a decoded query name marks a presigned
// (query-string) SigV4 request.
func isPresignParam(k string) bool {
	return k == paramAlgorithm || k == paramCredential || k == paramSignature
}

// isSigV2Param reports whether a decoded query name marks a Signature
// Version 2 request.
func isSigV2Param(k string) bool {
	return k == "AWSAccessKeyId" || k == "SignatureVersion" || k == "Signature"
}

// IsSigned reports whether r carries any SigV4 (or other AWS) authentication
// attempt: an Authorization header, or an X-Amz-Algorithm, X-Amz-Signature or
// X-Amz-Credential query parameter (or the AWSAccessKeyId, Signature or
// SignatureVersion parameters of Signature Version 2). Callers use it to
// route unsigned actions such as AssumeRoleWithSAML; a request for which it
// returns true must go through Verify.
func IsSigned(r *http.Request) bool {
	if r == nil {
		return false
	}
	if _, ok := r.Header["Authorization"]; ok {
		return true
	}
	if r.URL == nil {
		return false
	}
	for piece := range strings.SplitSeq(r.URL.RawQuery, "&") {
		k, _, _ := strings.Cut(piece, "=")
		// Undecodable names count as an attempt: Verify rejects them anyway.
		dk, ok := unescape(k)
		if !ok || isPresignParam(dk) || isSigV2Param(dk) {
			return true
		}
	}
	return false
}

// request is everything Verify extracted before it asks for the secret.
type request struct {
	authParams
	t         time.Time
	token     string
	presigned bool
	expires   time.Duration
}

// Verify checks the signature of r. body is the exact request body the caller
// already read (and limited in size); Verify never reads r.Body. The
// canonical query comes from r.URL.RawQuery only, never from the body.
//
// Every signature problem is returned as *Error. A lookup error that wraps
// ErrUnknownAccessKey becomes InvalidClientTokenId; any other lookup error is
// returned unchanged.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (*Result, error) {
	if r == nil || r.URL == nil {
		return nil, errors.New("sigv4: verify: request has no URL")
	}
	if v.Lookup == nil {
		return nil, errors.New("sigv4: verify: verifier has no credential lookup")
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}

	query, queryOK := parseQuery(r.URL.RawQuery)
	var presign, sigv2 bool
	for _, p := range query {
		presign = presign || isPresignParam(p.key)
		sigv2 = sigv2 || isSigV2Param(p.key)
	}
	authz, hasAuthz := r.Header["Authorization"]

	var req request
	var e *Error
	switch {
	case hasAuthz && (presign || sigv2):
		e = newError(IncompleteSignature, msgOnlyOneMechanism)
	case !queryOK && !hasAuthz && !IsSigned(r):
		e = newError(MissingAuthenticationToken, msgMissingAuth)
	case !queryOK:
		// The canonical query cannot be built (and a pair that failed to
		// decode may have been a presign parameter).
		e = newError(IncompleteSignature, "The query string is not validly percent-encoded.")
	case hasAuthz:
		e = parseHeaderAuth(r, authz, &req)
	case presign:
		e = parsePresigned(r, query, &req)
	case sigv2:
		e = newError(IncompleteSignature, msgSigV2)
	default:
		e = newError(MissingAuthenticationToken, msgMissingAuth)
	}
	if e != nil {
		return nil, e
	}
	if e := v.checkScope(&req.authParams); e != nil {
		return nil, e
	}
	if e := checkTime(&req, now, skew); e != nil {
		return nil, e
	}

	// Payload: the body hash is always computed from the bytes received; a
	// client-declared hash must agree with it.
	bodySum := sha256.Sum256(body)
	var payloadHash [64]byte
	hex.Encode(payloadHash[:], bodySum[:])
	if e := checkDeclaredPayloadHash(r, query, req.presigned, payloadHash[:]); e != nil {
		return nil, e
	}

	// Canonical request. It needs no secret, so it is built (and a missing
	// signed header reported) before the lookup.
	buf := make([]byte, 0, 1024)
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	buf = append(buf, method...)
	buf = append(buf, '\n')
	buf = appendCanonicalURI(buf, wirePath(r))
	buf = append(buf, '\n')
	buf = appendCanonicalQuery(buf, query, req.presigned)
	buf = append(buf, '\n')
	buf, missing := appendCanonicalHeaders(buf, r, req.signedHeaders)
	if missing != "" {
		return nil, newError(SignatureDoesNotMatch, "Header '"+echo(missing)+"' is listed in SignedHeaders but is not present in the request.")
	}
	buf = append(buf, '\n')
	buf = append(buf, req.signedHeaders...)
	buf = append(buf, '\n')
	buf = append(buf, payloadHash[:]...)
	canonicalHash := sha256.Sum256(buf)
	stringToSign := appendStringToSign(buf[:0], req.t, &req.authParams, &canonicalHash)

	cred, err := v.Lookup.LookupCredential(ctx, LookupRequest{
		AccessKeyID:   req.accessKeyID,
		SecurityToken: req.token,
		Region:        req.region,
		Service:       req.service,
		Time:          req.t,
	})
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) {
			return nil, newError(InvalidClientTokenID, msgInvalidClientTokenID)
		}
		return nil, err
	}
	if cred.SecretAccessKey == "" {
		return nil, errors.New("sigv4: verify: credential lookup returned an empty secret access key")
	}
	want := signature(cred.SecretAccessKey, &req.authParams, stringToSign)
	if subtle.ConstantTimeCompare(want[:], req.signature[:]) != 1 {
		return nil, newError(SignatureDoesNotMatch, msgSignatureDoesNotMatch)
	}
	return &Result{
		AccessKeyID:   req.accessKeyID,
		Region:        req.region,
		Service:       req.service,
		Time:          req.t,
		SignedHeaders: signedHeaderList(req.signedHeaders),
		SecurityToken: req.token,
		Presigned:     req.presigned,
		Credential:    cred,
	}, nil
}

// parseHeaderAuth fills req from the Authorization header and the date and
// token headers.
func parseHeaderAuth(r *http.Request, authz []string, req *request) *Error {
	if len(authz) != 1 {
		return newError(IncompleteSignature, "Request must contain exactly one Authorization header.")
	}
	p, e := parseAuthorization(authz[0])
	if e != nil {
		return e
	}
	req.authParams = p

	var dateHeader string
	if vals := r.Header["X-Amz-Date"]; len(vals) > 0 {
		if len(vals) > 1 {
			return newError(IncompleteSignature, "Request must contain at most one X-Amz-Date header.")
		}
		t, ok := parseAmzDate(vals[0])
		if !ok {
			return newError(IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '"+echo(vals[0])+"'. See http://en.wikipedia.org/wiki/ISO_8601")
		}
		req.t, dateHeader = t, "x-amz-date"
	} else if vals := r.Header["Date"]; len(vals) > 0 {
		if len(vals) > 1 {
			return newError(IncompleteSignature, "Request must contain at most one Date header.")
		}
		t, ok := parseHTTPDate(vals[0])
		if !ok {
			return newError(IncompleteSignature, "Date header must be in RFC 1123 format. Got '"+echo(vals[0])+"'.")
		}
		req.t, dateHeader = t, "date"
	} else {
		return authzError("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ", authz[0])
	}
	if !hasSignedHeader(p.signedHeaders, dateHeader) {
		return authzError("Authorization header requires the '"+dateHeader+"' header to be signed. ", authz[0])
	}

	if vals := r.Header["X-Amz-Security-Token"]; len(vals) > 0 {
		if len(vals) > 1 {
			return newError(IncompleteSignature, "Request must contain at most one X-Amz-Security-Token header.")
		}
		if !hasSignedHeader(p.signedHeaders, "x-amz-security-token") {
			return authzError("The 'x-amz-security-token' header must be signed. ", authz[0])
		}
		req.token = vals[0]
	}
	return nil
}

// parsePresigned fills req from the X-Amz-* query parameters.
func parsePresigned(r *http.Request, query []queryPair, req *request) *Error {
	var alg, cred, date, signed, sig, expires, token string
	var haveAlg, haveCred, haveDate, haveSigned, haveSig, haveExpires, haveToken bool
	for _, q := range query {
		var dst *string
		var seen *bool
		switch q.key {
		case paramAlgorithm:
			dst, seen = &alg, &haveAlg
		case paramCredential:
			dst, seen = &cred, &haveCred
		case paramDate:
			dst, seen = &date, &haveDate
		case paramSignedHeaders:
			dst, seen = &signed, &haveSigned
		case paramSignature:
			dst, seen = &sig, &haveSig
		case paramExpires:
			dst, seen = &expires, &haveExpires
		case paramSecurityToken:
			dst, seen = &token, &haveToken
		default:
			continue
		}
		if *seen {
			return newError(IncompleteSignature, "Query-string parameter '"+q.key+"' must not be repeated.")
		}
		*dst, *seen = q.value, true
	}
	if haveAlg {
		switch {
		case alg == algorithmV4A:
			return newError(IncompleteSignature, msgSigV4A)
		case alg != algorithmHMAC:
			return newError(IncompleteSignature, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
		}
	}
	if !haveAlg || !haveCred || !haveDate || !haveSigned || !haveSig || !haveExpires {
		return newError(IncompleteSignature, msgMissingQueryArg)
	}
	var p authParams
	if e := parseCredential(cred, &p); e != nil {
		return e
	}
	if e := checkSignedHeaders(signed); e != nil {
		return e
	}
	p.signedHeaders = signed
	if !decodeSignature(sig, &p.signature) {
		return newError(IncompleteSignature, "X-Amz-Signature must be 64 lowercase hexadecimal characters.")
	}
	t, ok := parseAmzDate(date)
	if !ok {
		return newError(IncompleteSignature, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	secs, e := parseExpires(expires)
	if e != nil {
		return e
	}
	if _, inHeader := r.Header["X-Amz-Security-Token"]; inHeader {
		return newError(IncompleteSignature, "X-Amz-Security-Token must not be sent both as a header and as a query-string parameter.")
	}
	req.authParams = p
	req.t = t
	req.token = token
	req.presigned = true
	req.expires = time.Duration(secs) * time.Second
	return nil
}

// hasSignedHeader reports whether name is in a validated SignedHeaders list.
func hasSignedHeader(list, name string) bool {
	for n := range strings.SplitSeq(list, ";") {
		if n == name {
			return true
		}
	}
	return false
}

// checkScope checks the credential scope: access key shape, region, service,
// and that the scope date is the signing date.
func (v *Verifier) checkScope(p *authParams) *Error {
	if !validAccessKeyID(p.accessKeyID) {
		return newError(InvalidClientTokenID, msgInvalidClientTokenID)
	}
	if !validScopeName(p.region) || v.AllowRegion != nil && !v.AllowRegion(p.region) {
		return newError(SignatureDoesNotMatch, msgInvalidRegion)
	}
	if !validScopeName(p.service) || v.AllowService != nil && !v.AllowService(p.service) {
		return newError(SignatureDoesNotMatch, "Credential should be scoped to correct service: '"+echo(p.service)+"' is not accepted here. ")
	}
	return nil
}

// checkTime checks the scope date against the signing time, then the signing
// time against the clock.
func checkTime(req *request, now time.Time, skew time.Duration) *Error {
	var d [8]byte
	if string(req.t.UTC().AppendFormat(d[:0], "20060102")) != req.scopeDate {
		amz := formatAmzDate(req.t)
		return newError(SignatureDoesNotMatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			req.scopeDate+"' != '"+amz[:8]+"', from '"+amz+"'.")
	}
	if req.presigned {
		if req.t.After(now.Add(skew)) {
			return errNotYetCurrent(req.t, now, skew)
		}
		if now.After(req.t.Add(req.expires)) {
			return newError(RequestExpired, msgRequestHasExpired)
		}
		return nil
	}
	if req.t.Before(now.Add(-skew)) {
		return errExpired(req.t, now, skew)
	}
	if req.t.After(now.Add(skew)) {
		return errNotYetCurrent(req.t, now, skew)
	}
	return nil
}

// checkDeclaredPayloadHash checks X-Amz-Content-Sha256 (header, or query
// parameter of a presigned request) against the computed body hash.
func checkDeclaredPayloadHash(r *http.Request, query []queryPair, presigned bool, computed []byte) *Error {
	check := func(declared string) *Error {
		if declared == unsignedPayload || strings.HasPrefix(declared, streamingPrefix) {
			return newError(IncompleteSignature, "x-amz-content-sha256 value '"+echo(declared)+"' is not supported by this service; sign the payload.")
		}
		if declared != string(computed) {
			return newError(SignatureDoesNotMatch, msgPayloadHash)
		}
		return nil
	}
	if vals := r.Header["X-Amz-Content-Sha256"]; len(vals) > 0 {
		if len(vals) > 1 {
			return newError(IncompleteSignature, "Request must contain at most one X-Amz-Content-Sha256 header.")
		}
		if e := check(vals[0]); e != nil {
			return e
		}
	}
	if presigned {
		for _, q := range query {
			if q.key == paramContentSHA256 {
				if e := check(q.value); e != nil {
					return e
				}
			}
		}
	}
	return nil
}
