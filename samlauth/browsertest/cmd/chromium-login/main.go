// Command chromium-login signs in at a login page with a real headless
// Chromium, for end-to-end scripts of browser logins: it opens URL, types
// into the given fields, clicks the submit button and waits until the
// browser has left the login page's host (for saml-browser: reached the
// plugin's listener). Use it as the BROWSER of `dbiam creds --plugin
// saml-browser`:
//
//	BROWSER="chromium-login -field #username=alice -field '#password=$IDP_PASSWORD'" dbiam creds …
//
// A value starting with $ is read from that environment variable, so that
// passwords stay off command lines. Development and CI only: Chromium runs
// with --no-sandbox.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dbiam/dbiam/samlauth/browsertest"
)

type fields []browsertest.Field

func (f *fields) String() string { return fmt.Sprint(len(*f)) }

func (f *fields) Set(s string) error {
	sel, val, ok := strings.Cut(s, "=")
	if !ok || sel == "" {
		return errors.New("want SELECTOR=VALUE or SELECTOR=$VARIABLE")
	}
	if name, ok := strings.CutPrefix(val, "$"); ok {
		v, set := os.LookupEnv(name)
		if !set {
			return fmt.Errorf("environment variable %s is not set", name)
		}
		val = v
	}
	*f = append(*f, browsertest.Field{Selector: sel, Value: val})
	return nil
}

func main() {
	var (
		c  browsertest.Chromium
		fs fields
	)
	flag.StringVar(&c.Path, "chromium", browsertest.DefaultPath, "Chromium binary")
	flag.Var(&fs, "field", "SELECTOR=VALUE to type (VALUE $NAME reads the environment variable NAME); repeatable")
	flag.StringVar(&c.Submit, "submit", "button[type=submit]", "CSS selector of the element to click")
	flag.DurationVar(&c.Timeout, "timeout", 60*time.Second, "give up after this long")
	verbose := flag.Bool("v", false, "print the pages visited and Chromium's stderr")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: chromium-login [flags] URL")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	c.Fields = fs
	if *verbose {
		c.Stderr = os.Stderr
	}
	err := c.OpenBrowser(flag.Arg(0))
	if *verbose {
		fmt.Fprintf(os.Stderr, "chromium-login: visited %v\n", c.Visited())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chromium-login:", err)
		os.Exit(1)
	}
}
