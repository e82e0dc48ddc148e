// Package app is dbiam's composition root: it turns a config into a running
// server (store, keyring, credential lookup, services, dispatcher, HTTP
// listener) and shuts it down gracefully.
//
// Only this package knows the concrete types behind the interfaces; cmd/dbiam
// stays a thin layer of flags over Run. It must never log a secret: root
// credentials are printed to the terminal only in --dev mode, on stdout, as
// the dev banner.
package app
