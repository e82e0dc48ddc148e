package devidp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// MetadataFile is the name, in the data dir, of the metadata copy Run
// writes for `aws iam create-saml-provider --saml-metadata-document file://…`.
const MetadataFile = "metadata.xml"

// Timeouts and limits of the HTTP server.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	shutdownTimeout   = 5 * time.Second
)

// Listen listens on addr (DefaultListen if empty). Unless insecure, the
// host must be a loopback IP address or "localhost": the IdP serves plain
// HTTP and checks passwords from a local file.
func Listen(addr string, insecure bool) (net.Listener, error) {
	if addr == "" {
		addr = DefaultListen
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if !insecure {
		ip := net.ParseIP(host)
		if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("refusing to listen on %s: the dev IdP serves plain HTTP with passwords from a file, so it listens on loopback only; pass --insecure to override", addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// Serve serves Handler on ln until ctx is done, then shuts down gracefully.
// Request bodies are bounded (MaxFormBytes) and every phase of a request
// has a timeout.
func (i *IdP) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           i.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(i.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Run is `dbiam idp`: it listens on cfg.Listen, builds the IdP for the
// address it got (BaseURL, and the default entity ID, follow it), writes
// the metadata to DataDir/MetadataFile, prints where everything is to
// stdout, and serves until ctx is done.
func Run(ctx context.Context, cfg Config, stdout io.Writer) error {
	ln, err := Listen(cfg.Listen, cfg.Insecure)
	if err != nil {
		return err
	}
	defer ln.Close()
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	i, err := New(cfg)
	if err != nil {
		return err
	}
	metaPath, err := filepath.Abs(filepath.Join(cfg.DataDir, MetadataFile))
	if err != nil {
		return fmt.Errorf("metadata file: %w", err)
	}
	if err := writeFile(metaPath, i.metadata); err != nil {
		return err
	}
	i.printBanner(stdout, metaPath)
	i.log.Info("dev IdP listening", "url", i.cfg.BaseURL, "entity_id", i.cfg.EntityID, "users", len(i.order), "new_key", i.created)
	return i.Serve(ctx, ln)
}

// writeFile replaces path with data (mode 0600) through a temporary file.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".metadata-*.xml")
	if err != nil {
		return fmt.Errorf("write metadata file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write metadata file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write metadata file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write metadata file: %w", err)
	}
	return nil
}

func (i *IdP) printBanner(w io.Writer, metaPath string) {
	keyNote := "kept in"
	if i.created {
		keyNote = "generated in"
	}
	example := "alice"
	if len(i.order) > 0 {
		example = i.order[0]
	}
	fmt.Fprintf(w, `
dbiam development SAML IdP on %[1]s (DEVELOPMENT ONLY: passwords come from a local file)
Signing key %[2]s %[3]s; entity ID %[4]s; %[5]d user(s).

Metadata:  %[1]s/metadata
           (also written to %[6]s)

Register it with dbiam (with the AWS_* exports from the 'dbiam serve --dev' banner):

  aws iam create-saml-provider --name %[7]s --saml-metadata-document file://%[6]s

Sign in:   %[1]s/login
Scripts:   curl -sS --data-urlencode username=%[8]s --data-urlencode password=… %[1]s/api/saml-response

`, i.cfg.BaseURL, keyNote, filepath.Join(i.cfg.DataDir, SigningKeyFile), i.cfg.EntityID, len(i.order), metaPath, i.cfg.ProviderName, example)
}
