package query

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/redshift/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	stsNS      = "https://sts.amazonaws.com/doc/2011-06-15/"
	redshiftNS = "http://redshift.amazonaws.com/doc/2012-12-01/"
	testReqID  = "2e5d6ab2-bd9b-11e6-8e16-a3e0f2ea5b5e"
)

// opFunc answers one operation: a result for MarshalResponse, or an error
// (an *Error, or a *testAPIError for service codes).
type opFunc func(p Params) (any, error)

type testAPIError struct {
	status        int
	code, message string
}

func (e *testAPIError) Error() string { return e.code }

// fakeService is a Query-protocol endpoint built only from this package. It
// records each request body and fails the test if an expected call never
// arrives.
type fakeService struct {
	t      *testing.T
	ns     string
	ops    map[string]opFunc
	mu     sync.Mutex
	bodies []string
}

func newFakeService(t *testing.T, ns string, ops map[string]opFunc) (*fakeService, *httptest.Server) {
	t.Helper()
	f := &fakeService{t: t, ns: ns, ops: ops}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		f.writeError(w, &testAPIError{http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "body too large"})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		f.t.Errorf("Content-Type = %q", ct)
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	p, err := Parse(body, r.URL.RawQuery)
	if err != nil {
		f.writeError(w, err)
		return
	}
	op, ok := f.ops[p.Action()]
	if !ok {
		f.writeError(w, &testAPIError{http.StatusBadRequest, "InvalidAction", "Unknown action"})
		return
	}
	result, err := op(p)
	if err != nil {
		f.writeError(w, err)
		return
	}
	doc, err := MarshalResponse(p.Action(), f.ns, testReqID, result)
	if err != nil {
		f.t.Errorf("MarshalResponse: %v", err)
		f.writeError(w, &testAPIError{http.StatusInternalServerError, "InternalFailure", "internal error"})
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-Requestid", testReqID)
	_, _ = w.Write(doc)
}

func (f *fakeService) writeError(w http.ResponseWriter, err error) {
	status, typ, code, msg := http.StatusInternalServerError, "Receiver", "InternalFailure", "internal error"
	var qe *Error
	var ae *testAPIError
	switch {
	case errors.As(err, &qe):
		status, typ, code, msg = http.StatusBadRequest, "Sender", qe.AWSErrorCode(), qe.AWSErrorMessage()
		if code == CodeMalformedQueryString {
			status = http.StatusNotFound
		}
	case errors.As(err, &ae):
		status, code, msg = ae.status, ae.code, ae.message
		if status < 500 {
			typ = "Sender"
		}
	default:
		f.t.Errorf("unexpected handler error: %v", err)
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-Requestid", testReqID)
	w.WriteHeader(status)
	_, _ = w.Write(MarshalError(f.ns, testReqID, typ, code, msg))
}

func (f *fakeService) lastBody(t *testing.T) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.bodies) == 0 {
		t.Fatal("the SDK sent no request")
	}
	return f.bodies[len(f.bodies)-1]
}

func stsClient(srv *httptest.Server) *sts.Client {
	return sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   srv.Client(),
		Retryer:      retry.AddWithMaxAttempts(retry.NewStandard(), 1),
	})
}

func redshiftClient(srv *httptest.Server) *redshift.Client {
	return redshift.New(redshift.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   srv.Client(),
		Retryer:      retry.AddWithMaxAttempts(retry.NewStandard(), 1),
	})
}

type getCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func TestSDKSTSGetCallerIdentity(t *testing.T) {
	f, srv := newFakeService(t, stsNS, map[string]opFunc{
		"GetCallerIdentity": func(p Params) (any, error) {
			if err := Decode(p, &struct{}{}); err != nil {
				return nil, err
			}
			return &getCallerIdentityResult{
				Arn:     "arn:aws:iam::123456789012:user/alice",
				UserID:  "AIDAEXAMPLE",
				Account: "123456789012",
			}, nil
		},
	})
	out, err := stsClient(srv).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.lastBody(t); got != "Action=GetCallerIdentity&Version=2011-06-15" {
		t.Errorf("body = %q", got)
	}
	if aws.ToString(out.Arn) != "arn:aws:iam::123456789012:user/alice" || aws.ToString(out.UserId) != "AIDAEXAMPLE" || aws.ToString(out.Account) != "123456789012" {
		t.Errorf("out = %+v", out)
	}
}

func TestSDKSTSErrors(t *testing.T) {
	tests := []struct {
		name        string
		op          opFunc
		wantCode    string
		wantMessage string
		wantStatus  int
	}{
		{
			name: "service error",
			op: func(Params) (any, error) {
				return nil, &testAPIError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
			},
			wantCode: "InvalidClientTokenId", wantMessage: "The security token included in the request is invalid.", wantStatus: http.StatusForbidden,
		},
		{
			name: "decode error",
			op: func(p Params) (any, error) {
				var in struct {
					RoleArn string `query:"RoleArn,required"`
				}
				return nil, Decode(p, &in)
			},
			wantCode: "MissingParameter", wantMessage: "The request must contain the parameter RoleArn", wantStatus: http.StatusBadRequest,
		},
		{
			name: "message with markup",
			op: func(Params) (any, error) {
				return nil, &testAPIError{http.StatusBadRequest, "ValidationError", `a<b>&"c"'d' ]]> é`}
			},
			wantCode: "ValidationError", wantMessage: `a<b>&"c"'d' ]]> é`, wantStatus: http.StatusBadRequest,
		},
		{
			name: "receiver fault",
			op: func(Params) (any, error) {
				return nil, &testAPIError{http.StatusInternalServerError, "InternalFailure", "We encountered an internal error. Please try again."}
			},
			wantCode: "InternalFailure", wantMessage: "We encountered an internal error. Please try again.", wantStatus: http.StatusInternalServerError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFakeService(t, stsNS, map[string]opFunc{"GetCallerIdentity": tt.op})
			_, err := stsClient(srv).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T) is not a smithy.APIError", err, err)
			}
			if apiErr.ErrorCode() != tt.wantCode || apiErr.ErrorMessage() != tt.wantMessage {
				t.Errorf("ErrorCode = %q, ErrorMessage = %q; want %q, %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), tt.wantCode, tt.wantMessage)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) {
				t.Fatalf("error %v is not an *awshttp.ResponseError", err)
			}
			if respErr.HTTPStatusCode() != tt.wantStatus {
				t.Errorf("status = %d, want %d", respErr.HTTPStatusCode(), tt.wantStatus)
			}
			if respErr.ServiceRequestID() != testReqID {
				t.Errorf("request id = %q", respErr.ServiceRequestID())
			}
		})
	}
}

type clusterCredentialsResult struct {
	DbUser     string    `xml:"DbUser"`
	DbPassword string    `xml:"DbPassword"`
	Expiration Timestamp `xml:"Expiration"`
}

func TestSDKRedshiftGetClusterCredentials(t *testing.T) {
	expiration := time.Date(2016, 12, 8, 21, 12, 53, 520e6, time.UTC)
	tests := []struct {
		name     string
		groups   []string
		wantBody string
		want     getClusterCredentialsInput
	}{
		{
			name:   "explicitly empty groups",
			groups: []string{},
			// The SDK's form encoder sorts keys.
			wantBody: "Action=GetClusterCredentials&AutoCreate=true&ClusterIdentifier=examplecluster&DbGroups=&DbName=dev" +
				"&DbUser=alice&DurationSeconds=3600&Version=2012-12-01",
			want: getClusterCredentialsInput{
				DbUser: "alice", DbName: ptr("dev"), ClusterIdentifier: ptr("examplecluster"),
				DurationSeconds: ptr(int32(3600)), AutoCreate: ptr(true), DbGroups: []string{},
			},
		},
		{
			name:   "two groups",
			groups: []string{"g1", "example_group"},
			wantBody: "Action=GetClusterCredentials&AutoCreate=true&ClusterIdentifier=examplecluster&DbGroups.DbGroup.1=g1" +
				"&DbGroups.DbGroup.2=example_group&DbName=dev&DbUser=alice&DurationSeconds=3600&Version=2012-12-01",
			want: getClusterCredentialsInput{
				DbUser: "alice", DbName: ptr("dev"), ClusterIdentifier: ptr("examplecluster"),
				DurationSeconds: ptr(int32(3600)), AutoCreate: ptr(true), DbGroups: []string{"g1", "example_group"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got getClusterCredentialsInput
			f, srv := newFakeService(t, redshiftNS, map[string]opFunc{
				"GetClusterCredentials": func(p Params) (any, error) {
					if p.Version() != "2012-12-01" {
						t.Errorf("Version = %q", p.Version())
					}
					if err := Decode(p, &got); err != nil {
						return nil, err
					}
					return clusterCredentialsResult{
						DbUser:     "IAMA:" + got.DbUser,
						DbPassword: "EXAMPLEjArE3hcnQj8zt4XQj9Xtma8oxYEM8OyxpDHwXVPyJYBDm/gqX2Eeaq6P3DgTzgPg==",
						Expiration: Timestamp(expiration),
					}, nil
				},
			})
			out, err := redshiftClient(srv).GetClusterCredentials(t.Context(), &redshift.GetClusterCredentialsInput{
				DbUser:            aws.String("alice"),
				DbName:            aws.String("dev"),
				ClusterIdentifier: aws.String("examplecluster"),
				DbGroups:          tt.groups,
				AutoCreate:        aws.Bool(true),
				DurationSeconds:   aws.Int32(3600),
			})
			if err != nil {
				t.Fatal(err)
			}
			if body := f.lastBody(t); body != tt.wantBody {
				t.Errorf("body =\n%s\nwant\n%s", body, tt.wantBody)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded %+v\nwant    %+v", got, tt.want)
			}
			if aws.ToString(out.DbUser) != "IAMA:alice" || !strings.HasPrefix(aws.ToString(out.DbPassword), "EXAMPLE") {
				t.Errorf("out = %+v", out)
			}
			if out.Expiration == nil || !out.Expiration.Equal(expiration) {
				t.Errorf("Expiration = %v, want %v", out.Expiration, expiration)
			}
		})
	}
}

func TestSDKRedshiftModeledError(t *testing.T) {
	_, srv := newFakeService(t, redshiftNS, map[string]opFunc{
		"GetClusterCredentials": func(Params) (any, error) {
			return nil, &testAPIError{http.StatusNotFound, "ClusterNotFound", "Cluster examplecluster not found."}
		},
	})
	_, err := redshiftClient(srv).GetClusterCredentials(t.Context(), &redshift.GetClusterCredentialsInput{
		DbUser: aws.String("alice"), ClusterIdentifier: aws.String("examplecluster"),
	})
	var nf *types.ClusterNotFoundFault
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v (%T), want the modeled *types.ClusterNotFoundFault", err, err)
	}
	if nf.ErrorCode() != "ClusterNotFound" || nf.ErrorMessage() != "Cluster examplecluster not found." {
		t.Errorf("ErrorCode = %q, ErrorMessage = %q", nf.ErrorCode(), nf.ErrorMessage())
	}
}
