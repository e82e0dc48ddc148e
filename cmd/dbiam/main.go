// Command dbiam serves AWS-compatible IAM, STS and Redshift credential APIs
// for PostgreSQL databases. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand(os.Getenv).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dbiam:", err)
		stop()
		os.Exit(1)
	}
}
