package samlauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"time"
)

// maxPostBytes caps the form posted to saml-browser's listener.
const maxPostBytes = 512 << 10

// browserLogin is PluginBrowser: listen on the loopback address, open
// IdPURL?acs=http://<addr>/saml in a browser, accept one POST carrying a
// SAMLResponse, thank the user, stop. It waits at most Timeout.
func (p *Provider) browserLogin(ctx context.Context) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", p.cfg.ListenAddr)
	if err != nil {
		return "", fmt.Errorf("samlauth: saml-browser: listen on %s: %w", p.cfg.ListenAddr, err)
	}
	acs := "http://" + ln.Addr().String() + ACSPath
	loginURL, err := withACS(p.cfg.IdPURL, acs)
	if err != nil {
		_ = ln.Close()
		return "", err
	}

	got := make(chan string, 1)
	srv := &http.Server{
		Handler:           acsHandler(got),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
		<-served
	}()

	opened := make(chan error, 1)
	go func() { opened <- p.cfg.OpenBrowser(loginURL) }()

	timer := time.NewTimer(p.cfg.Timeout)
	defer timer.Stop()
	for {
		select {
		case resp := <-got:
			return resp, nil
		case err := <-opened:
			if err != nil {
				return "", fmt.Errorf("samlauth: saml-browser: open a browser at %s: %w", loginURL, err)
			}
			opened = nil
		case <-timer.C:
			return "", fmt.Errorf("%w: no SAML response was posted to %s within %s (sign in at %s)", ErrTimeout, acs, p.cfg.Timeout, loginURL)
		case <-ctx.Done():
			return "", fmt.Errorf("samlauth: saml-browser: %w", ctx.Err())
		case err := <-served:
			return "", fmt.Errorf("samlauth: saml-browser: listener stopped: %w", err)
		}
	}
}

// withACS adds acs=<acs> to the IdP URL unless it has one.
func withACS(idp, acs string) (string, error) {
	u, err := url.Parse(idp)
	if err != nil {
		return "", fmt.Errorf("%w: IdP URL", ErrConfig)
	}
	q := u.Query()
	if q.Get("acs") == "" {
		q.Set("acs", acs)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

const (
	acsCSP   = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	donePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed in</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}</style></head>
<body><h1>Signed in</h1><p>The SAML response reached the command line. You may close this window.</p></body></html>
`
	badPostPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>No SAML response</title></head>
<body><h1>No SAML response</h1><p>This page expects a form POST with a SAMLResponse from the identity provider.</p></body></html>
`
)

// acsHandler accepts POSTs whose form has a well-formed SAMLResponse and
// hands the first to got; everything else is refused.
func acsHandler(got chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", acsCSP)
		if r.Method != http.MethodPost {
			h.Set("Allow", http.MethodPost)
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(badPostPage))
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		r.Body = http.MaxBytesReader(w, r.Body, maxPostBytes)
		var resp string
		if mt == "application/x-www-form-urlencoded" && r.ParseForm() == nil {
			resp = r.PostForm.Get("SAMLResponse")
		}
		if resp == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(badPostPage))
			return
		}
		if _, err := ParseResponse(resp); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(badPostPage))
			return
		}
		select {
		case got <- resp:
		default: // a response was taken already
		}
		_, _ = w.Write([]byte(donePage))
	})
}

// openSystemBrowser opens url with the desktop's handler.
func openSystemBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%s not found: open the URL yourself", cmd.Path)
		}
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
