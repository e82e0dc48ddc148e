package samlauth

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/testutil/importcheck"
)

// TestImports enforces doc.go: the public packages (tests aside) import
// only the standard library, aws-sdk-go-v2 and smithy-go — never dbiam's
// internal packages.
func TestImports(t *testing.T) {
	for _, dir := range []string{".", "browsertest", filepath.Join("browsertest", "cmd", "chromium-login")} {
		for _, imp := range importcheck.Imports(t, dir) {
			path := imp.Path
			switch {
			case importcheck.Standard(path):
			case dir == "." && (strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/") || strings.HasPrefix(path, "github.com/aws/smithy-go")):
			case dir != "." && strings.HasPrefix(path, "github.com/dbiam/dbiam/samlauth/browsertest"):
			default:
				t.Errorf("%s imports %s", imp.File, path)
			}
		}
	}
}
