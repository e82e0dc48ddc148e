package dispatch

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/audit"
	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/awsproto/query"
	"github.com/dbiam/dbiam/internal/awsproto/sigv4"
	"github.com/dbiam/dbiam/internal/identity"
)

// Handler serves one action. It returns the result struct to encode inside
// <{Action}Result> (nil for actions without a result element) or an error.
type Handler func(ctx context.Context, req *Request) (any, error)

// Action is one operation of a service.
type Action struct {
	Handler Handler
	// Unsigned marks actions AWS serves without authentication
	// (AssumeRoleWithSAML, AssumeRoleWithWebIdentity): the assertion or
	// token in the request is the credential. Any signature is ignored.
	Unsigned bool
}

// Service is one AWS service served on the listener.
type Service struct {
	Name      string // SigV4 service name in the credential scope: "sts", "iam", "redshift"
	Version   string // API version, e.g. "2011-06-15"
	Namespace string // XML namespace of responses
	Actions   map[string]Action
}

// Request is what a handler sees.
type Request struct {
	ID        string
	Service   string
	Action    string
	Params    query.Params
	Principal identity.Principal
	// Region is the credential-scope region of a signed request, or the
	// dispatcher's default region for an unsigned one.
	Region   string
	SourceIP netip.Addr
	// Secure is true when the request arrived over TLS (aws:SecureTransport).
	Secure bool
	Time   time.Time
	// Signature is the verification result of a signed request; nil for an
	// unsigned action.
	Signature *sigv4.Result

	decisions []audit.Decision
}

// RecordDecision adds an authorization decision to the call's audit event.
func (r *Request) RecordDecision(d audit.Decision) { r.decisions = append(r.decisions, d) }

// Decisions returns the decisions recorded so far.
func (r *Request) Decisions() []audit.Decision { return r.decisions }

// Decode decodes the request parameters into dst (see query.Decode).
func (r *Request) Decode(dst any) error { return query.Decode(r.Params, dst) }

// Dispatcher routes Query-protocol requests to service handlers.
type Dispatcher struct {
	verifier      *sigv4.Verifier
	services      map[string]*Service // by SigV4 service name
	unsigned      map[string]*Service // by Action + "\x00" + Version
	defaultRegion string
	maxBody       int64
	now           func() time.Time
	rand          io.Reader
	log           *slog.Logger
	audit         audit.Sink
	observer      Observer
}

// Observer receives every request's outcome, for metrics. service and
// action are the served names, or "unknown" (so that clients cannot create
// label values); code is the AWS error code, "" for success.
type Observer interface {
	ObserveRequest(service, action, code string, elapsed time.Duration)
}

// Config holds a Dispatcher's dependencies.
type Config struct {
	Verifier      *sigv4.Verifier  // required
	DefaultRegion string           // region reported for unsigned requests
	MaxBodyBytes  int64            // 0 -> query.MaxBodyBytes
	Now           func() time.Time // required
	Rand          io.Reader        // request IDs; required
	Logger        *slog.Logger     // required
	Audit         audit.Sink       // optional: one event per call
	Observer      Observer         // optional: one observation per call
}

// New returns a Dispatcher serving services.
func New(cfg Config, services ...*Service) (*Dispatcher, error) {
	if cfg.Verifier == nil || cfg.Now == nil || cfg.Rand == nil || cfg.Logger == nil {
		return nil, errors.New("dispatch: verifier, clock, rand and logger are required")
	}
	d := &Dispatcher{
		verifier:      cfg.Verifier,
		services:      make(map[string]*Service),
		unsigned:      make(map[string]*Service),
		defaultRegion: cfg.DefaultRegion,
		maxBody:       cfg.MaxBodyBytes,
		now:           cfg.Now,
		rand:          cfg.Rand,
		log:           cfg.Logger,
		audit:         cfg.Audit,
		observer:      cfg.Observer,
	}
	if d.maxBody <= 0 {
		d.maxBody = query.MaxBodyBytes
	}
	for _, s := range services {
		if _, dup := d.services[s.Name]; dup {
			return nil, fmt.Errorf("dispatch: service %q registered twice", s.Name)
		}
		d.services[s.Name] = s
		for name, a := range s.Actions {
			if a.Handler == nil {
				return nil, fmt.Errorf("dispatch: %s:%s has no handler", s.Name, name)
			}
			if a.Unsigned {
				d.unsigned[name+"\x00"+s.Version] = s
			}
		}
	}
	return d, nil
}

// Services returns the names of the served services, sorted.
func (d *Dispatcher) Services() []string {
	names := make([]string, 0, len(d.services))
	for n := range d.services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// genericNamespace is used for errors raised before a service is known.
const genericNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// ServeHTTP implements http.Handler.
func (d *Dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := d.now()
	req := &Request{ID: d.newRequestID(), Time: start, SourceIP: sourceIP(r), Secure: r.TLS != nil}
	w.Header().Set("x-amzn-RequestId", req.ID)

	ns := genericNamespace
	result, svc, err := d.serve(r, req)
	if svc != nil {
		ns = svc.Namespace
	}
	status := http.StatusOK
	code := ""
	if err != nil {
		ae := awserr.From(err)
		status, code = ae.HTTPStatus, ae.Code
		d.logError(r.Context(), req, ae)
		writeXML(w, status, query.MarshalError(ns, req.ID, ae.Type(), ae.Code, ae.Message))
	} else {
		body, merr := query.MarshalResponse(req.Action, ns, req.ID, result)
		if merr != nil {
			ae := awserr.Wrap(fmt.Errorf("encode %s response: %w", req.Action, merr), awserr.InternalFailure, "We encountered an internal error. Please try again.")
			ae.HTTPStatus = http.StatusInternalServerError
			status, code = ae.HTTPStatus, ae.Code
			d.logError(r.Context(), req, ae)
			writeXML(w, status, query.MarshalError(ns, req.ID, ae.Type(), ae.Code, ae.Message))
		} else {
			writeXML(w, status, body)
		}
	}
	if d.audit != nil {
		d.audit.Record(r.Context(), audit.Event{
			Time:        start,
			RequestID:   req.ID,
			Principal:   req.Principal.ARN,
			AccessKeyID: req.Principal.AccessKeyID,
			SourceIP:    req.SourceIP.String(),
			Service:     req.Service,
			Action:      boundedName(req.Action),
			Decisions:   req.decisions,
			ErrorCode:   code,
			HTTPStatus:  status,
		})
	}
	if d.observer != nil {
		service, action := "unknown", "unknown"
		if svc != nil {
			service = svc.Name
			if _, ok := svc.Actions[req.Action]; ok {
				action = req.Action
			}
		}
		d.observer.ObserveRequest(service, action, code, d.now().Sub(start))
	}
	d.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("request_id", req.ID),
		slog.String("service", req.Service),
		slog.String("action", boundedName(req.Action)),
		slog.String("principal", req.Principal.ARN),
		slog.String("source_ip", req.SourceIP.String()),
		slog.Int("status", status),
		slog.String("error_code", code),
		slog.Duration("duration", d.now().Sub(start)),
	)
}

func (d *Dispatcher) serve(r *http.Request, req *Request) (result any, svc *Service, err error) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, nil, awserr.New(awserr.MethodNotAllowed, "The requested method %s is not allowed for this resource.", boundedName(r.Method))
	}
	if r.URL.Path != "/" {
		return nil, nil, &awserr.Error{Code: "NotFound", Message: "Query API requests are served at path /.", HTTPStatus: http.StatusNotFound}
	}
	body, err := d.readBody(r)
	if err != nil {
		return nil, nil, err
	}
	params, err := query.Parse(body, r.URL.RawQuery)
	if err != nil {
		return nil, nil, err
	}
	req.Params = params
	req.Action = params.Action()
	version := params.Version()

	if s, ok := d.unsigned[req.Action+"\x00"+version]; ok {
		svc = s
		req.Service = s.Name
		req.Principal = identity.Anonymous()
		req.Region = d.defaultRegion
	} else {
		if !sigv4.IsSigned(r) {
			return nil, nil, awserr.New(awserr.MissingAuthenticationToken, "Request is missing Authentication Token")
		}
		res, err := d.verifier.Verify(r.Context(), r, body)
		if err != nil {
			return nil, nil, err
		}
		p, ok := res.Credential.Principal.(identity.Principal)
		if !ok {
			return nil, nil, fmt.Errorf("credential lookup returned %T, want identity.Principal", res.Credential.Principal)
		}
		req.Principal, req.Region, req.Signature = p, res.Region, res
		req.Service = res.Service
		s, ok := d.services[res.Service]
		if !ok {
			return nil, nil, awserr.New(awserr.InvalidAction, "Service %s is not served by this endpoint; served: %s.", boundedName(res.Service), strings.Join(d.Services(), ", "))
		}
		svc = s
	}

	if req.Action == "" {
		return nil, svc, awserr.New(awserr.MissingAction, "The request must contain the parameter Action")
	}
	if version == "" {
		return nil, svc, awserr.New(awserr.MissingParameter, "The request must contain the parameter Version")
	}
	if version != svc.Version {
		return nil, svc, awserr.New(awserr.InvalidAction, "Could not find operation %s for version %s", boundedName(req.Action), boundedName(version))
	}
	action, ok := svc.Actions[req.Action]
	if !ok {
		return nil, svc, awserr.New(awserr.InvalidAction, "Could not find operation %s for version %s", boundedName(req.Action), version)
	}
	ctx := identity.WithPrincipal(r.Context(), req.Principal)
	result, err = callHandler(ctx, action.Handler, req)
	return result, svc, err
}

func callHandler(ctx context.Context, h Handler, req *Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler %s panicked: %v\n%s", req.Action, p, debug.Stack())
		}
	}()
	return h(ctx, req)
}

func (d *Dispatcher) readBody(r *http.Request) ([]byte, error) {
	if r.Method == http.MethodGet {
		return nil, nil
	}
	if r.ContentLength > d.maxBody {
		return nil, awserr.New(awserr.RequestEntityTooLarge, "Request body must not exceed %d bytes.", d.maxBody)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, awserr.New(awserr.UnsupportedMediaType, "Content-Type must be application/x-www-form-urlencoded.")
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, d.maxBody+1))
	if err != nil {
		return nil, awserr.Wrap(fmt.Errorf("read request body: %w", err), awserr.MalformedQueryString, "The request body could not be read.")
	}
	if int64(len(body)) > d.maxBody {
		return nil, awserr.New(awserr.RequestEntityTooLarge, "Request body must not exceed %d bytes.", d.maxBody)
	}
	return body, nil
}

func (d *Dispatcher) logError(ctx context.Context, req *Request, ae *awserr.Error) {
	level := slog.LevelDebug
	if ae.HTTPStatus >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", req.ID),
		slog.String("code", ae.Code),
	}
	if ae.Cause != nil {
		attrs = append(attrs, slog.String("cause", ae.Cause.Error()))
	}
	d.log.LogAttrs(ctx, level, "request failed", attrs...)
}

// newRequestID returns a random UUID (version 4) string.
func (d *Dispatcher) newRequestID() string {
	var b [16]byte
	if _, err := io.ReadFull(d.rand, b[:]); err != nil {
		// Request IDs are for correlation only; fall back to the clock.
		t := d.now().UnixNano()
		for i := range 8 {
			b[i] = byte(t >> (8 * i))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func sourceIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// boundedName truncates client-supplied names before they reach a message
// or a log line.
func boundedName(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
