package awserr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

type coder struct{ code, msg string }

func (c coder) Error() string           { return c.code }
func (c coder) AWSErrorCode() string    { return c.code }
func (c coder) AWSErrorMessage() string { return c.msg }

type statusCoder struct{ coder }

func (statusCoder) HTTPStatus() int { return http.StatusForbidden }

func TestFrom(t *testing.T) {
	sentinel := errors.New("secret detail")
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantStatus int
		wantMsg    string
	}{
		{"api error passes through", fmt.Errorf("ctx: %w", New(AccessDenied, "no")), AccessDenied, 403, "no"},
		{"coder keeps code and message", fmt.Errorf("ctx: %w", coder{SignatureDoesNotMatch, "bad sig"}), SignatureDoesNotMatch, 403, "bad sig"},
		{"coder with its own status", statusCoder{coder{"IDPRejectedClaim", "rejected"}}, "IDPRejectedClaim", 403, "rejected"},
		{"unknown code defaults to 400", coder{"SomethingElse", "x"}, "SomethingElse", 400, "x"},
		{"anything else is an internal failure", fmt.Errorf("query: %w", sentinel), InternalFailure, 500, "We encountered an internal error. Please try again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := From(tt.err)
			if got.Code != tt.wantCode || got.HTTPStatus != tt.wantStatus || got.Message != tt.wantMsg {
				t.Errorf("got %+v", got)
			}
			if !errors.Is(got, tt.err) && !errors.Is(got, errors.Unwrap(tt.err)) && got.Cause != nil && !errors.Is(got.Cause, tt.err) {
				t.Errorf("cause lost")
			}
		})
	}
	if From(nil) != nil {
		t.Error("From(nil) != nil")
	}
	if New(InternalFailure, "x").Type() != Receiver || New(AccessDenied, "x").Type() != Sender {
		t.Error("fault types")
	}
}
