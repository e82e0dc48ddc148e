package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// Field is one form field to type into.
type Field struct {
	Selector string // CSS selector, e.g. "#username"
	Value    string
}

// Chromium drives one headless Chromium per OpenBrowser call.
type Chromium struct {
	// Path of the browser (DefaultPath).
	Path string
	// Fields are typed into, in order, once the first one is on the page.
	Fields []Field
	// Submit is the CSS selector of the element clicked to submit
	// ("button[type=submit]" by default).
	Submit string
	// Done reports, from the current URL, that the flow is over (the
	// browser reached the listener). Default: any URL that is not on the
	// host of the URL opened.
	Done func(url string) bool
	// Timeout bounds the whole flow (default 60 s).
	Timeout time.Duration
	// Stderr receives Chromium's stderr (discarded if nil).
	Stderr io.Writer
	// ExtraArgs are added to the command line.
	ExtraArgs []string

	mu       sync.Mutex
	visits   []string
	lastText string
}

// Args are the command-line flags Chromium is started with (before
// --user-data-dir and --remote-debugging-pipe).
var Args = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
	"--disable-sync", "--disable-dev-shm-usage", "--password-store=basic", "--use-mock-keychain",
}

// Visited returns the URLs the page was seen at, in order, for assertions
// and failure messages.
func (c *Chromium) Visited() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.visits...)
}

// Text returns the text (document.body.innerText) of the page the flow
// ended on.
func (c *Chromium) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastText
}

func (c *Chromium) visit(u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.visits); n == 0 || c.visits[n-1] != u {
		c.visits = append(c.visits, u)
	}
}

// OpenBrowser starts Chromium, opens url, fills in Fields, clicks Submit,
// waits until Done, and stops Chromium.
func (c *Chromium) OpenBrowser(url string) error {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Run(ctx, url)
}

// Run is OpenBrowser with a context.
func (c *Chromium) Run(ctx context.Context, url string) (err error) {
	path := c.Path
	if path == "" {
		path = DefaultPath
	}
	dir, err := os.MkdirTemp("", "browsertest-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// fd 3: Chromium reads commands; fd 4: it writes answers and events.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		return err
	}
	args := append(append([]string{}, Args...), c.ExtraArgs...)
	args = append(args, "--user-data-dir="+dir, "--remote-debugging-pipe", "about:blank")
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	cmd.Stdout = c.Stderr
	cmd.Stderr = c.Stderr
	if err := cmd.Start(); err != nil {
		cmdR.Close()
		cmdW.Close()
		outR.Close()
		outW.Close()
		return fmt.Errorf("browsertest: start %s: %w", path, err)
	}
	cmdR.Close()
	outW.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	s := newSession(cmdW, outR)
	defer func() {
		// Ask politely, then insist.
		cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, _ = s.call(cctx, "", "Browser.close", nil)
		ccancel()
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		cmdW.Close()
		outR.Close()
	}()

	sid, err := s.attachPage(ctx)
	if err != nil {
		return err
	}
	if _, err := s.call(ctx, sid, "Page.enable", nil); err != nil {
		return err
	}
	if _, err := s.call(ctx, sid, "Page.navigate", map[string]any{"url": url}); err != nil {
		return err
	}
	start := hostOf(url)
	done := c.Done
	if done == nil {
		done = func(u string) bool { return hostOf(u) != start && strings.HasPrefix(u, "http") }
	}
	if len(c.Fields) > 0 {
		first := c.Fields[0].Selector
		if err := c.waitFor(ctx, s, sid, "document.readyState === 'complete' && document.querySelector("+jsString(first)+") !== null"); err != nil {
			return fmt.Errorf("browsertest: waiting for %s on the login page: %w (visited %v)", first, err, c.Visited())
		}
		for _, f := range c.Fields {
			// Focus the field, clear it, and type (Input.insertText) as a
			// user would.
			ok, err := s.eval(ctx, sid, "(() => { const e = document.querySelector("+jsString(f.Selector)+"); if (!e) return false; e.focus(); e.value = ''; return true })()")
			if err != nil {
				return err
			}
			if ok != "true" {
				return fmt.Errorf("browsertest: no field %s", f.Selector)
			}
			if _, err := s.call(ctx, sid, "Input.insertText", map[string]any{"text": f.Value}); err != nil {
				return err
			}
		}
		submit := c.Submit
		if submit == "" {
			submit = "button[type=submit]"
		}
		ok, err := s.eval(ctx, sid, "(() => { const e = document.querySelector("+jsString(submit)+"); if (!e) return false; e.click(); return true })()")
		if err != nil {
			return err
		}
		if ok != "true" {
			return fmt.Errorf("browsertest: no submit element %s", submit)
		}
	}
	for {
		u, err := s.eval(ctx, sid, "document.readyState === 'complete' ? location.href : ''")
		if err == nil && u != "" {
			c.visit(u)
			if done(u) {
				text, _ := s.eval(ctx, sid, "document.body ? document.body.innerText : ''")
				c.mu.Lock()
				c.lastText = text
				c.mu.Unlock()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("browsertest: the flow did not finish: %w (visited %v)", ctx.Err(), c.Visited())
		case <-exited:
			return fmt.Errorf("browsertest: chromium exited (visited %v)", c.Visited())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Chromium) waitFor(ctx context.Context, s *session, sid, cond string) error {
	for {
		v, err := s.eval(ctx, sid, "("+cond+") ? location.href : ''")
		if err == nil && v != "" {
			c.visit(v)
			return nil
		}
		if u, err := s.eval(ctx, sid, "location.href"); err == nil {
			c.visit(u)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func hostOf(u string) string {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		rest, _ = strings.CutPrefix(u, "https://")
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	return host
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// session is a DevTools protocol connection over the pipe.
type session struct {
	w io.Writer

	mu      sync.Mutex // guards next, pending, werr
	next    int
	pending map[int]chan message
	closed  chan struct{}
}

type message struct {
	ID     int             `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func newSession(w io.Writer, r io.Reader) *session {
	s := &session{w: w, pending: map[int]chan message{}, closed: make(chan struct{})}
	go s.read(r)
	return s
}

func (s *session) read(r io.Reader) {
	defer close(s.closed)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m message
		if json.Unmarshal(bytes.TrimSuffix(raw, []byte{0}), &m) != nil || m.ID == 0 {
			continue // an event
		}
		s.mu.Lock()
		ch := s.pending[m.ID]
		delete(s.pending, m.ID)
		s.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

func (s *session) call(ctx context.Context, sessionID, method string, params any) (json.RawMessage, error) {
	s.mu.Lock()
	s.next++
	id := s.next
	ch := make(chan message, 1)
	s.pending[id] = ch
	req := map[string]any{"id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if sessionID != "" {
		req["sessionId"] = sessionID
	}
	b, _ := json.Marshal(req)
	_, err := s.w.Write(append(b, 0))
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("browsertest: %s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("browsertest: %s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-s.closed:
		return nil, fmt.Errorf("browsertest: %s: chromium closed the pipe", method)
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		return nil, fmt.Errorf("browsertest: %s: %w", method, ctx.Err())
	}
}

// attachPage attaches to the first page target (the about:blank tab).
func (s *session) attachPage(ctx context.Context) (string, error) {
	for {
		res, err := s.call(ctx, "", "Target.getTargets", nil)
		if err != nil {
			return "", err
		}
		var out struct {
			TargetInfos []struct {
				TargetID string `json:"targetId"`
				Type     string `json:"type"`
			} `json:"targetInfos"`
		}
		if err := json.Unmarshal(res, &out); err != nil {
			return "", err
		}
		for _, t := range out.TargetInfos {
			if t.Type == "page" {
				res, err := s.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": t.TargetID, "flatten": true})
				if err != nil {
					return "", err
				}
				var a struct {
					SessionID string `json:"sessionId"`
				}
				if err := json.Unmarshal(res, &a); err != nil || a.SessionID == "" {
					return "", errors.New("browsertest: attachToTarget returned no session")
				}
				return a.SessionID, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("browsertest: no page target: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// eval evaluates a JavaScript expression in the page and returns its value
// as a string (JSON for non-strings).
func (s *session) eval(ctx context.Context, sid, expr string) (string, error) {
	// An evaluation can hang while the page navigates: bound each one.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := s.call(ctx, sid, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		return "", err
	}
	var out struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &out); err != nil {
		return "", err
	}
	if out.ExceptionDetails != nil {
		return "", fmt.Errorf("browsertest: script error: %s", out.ExceptionDetails.Text)
	}
	var str string
	if json.Unmarshal(out.Result.Value, &str) == nil {
		return str, nil
	}
	return string(out.Result.Value), nil
}
