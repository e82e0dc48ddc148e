package engine

import (
	"testing"

	"github.com/dbiam/dbiam/internal/testutil/importcheck"
)

// TestImportsOnlyStandardLibrary enforces the rule in doc.go: the package
// (tests aside) imports only the standard library and dbiam's stdlib-only
// secret package.
func TestImportsOnlyStandardLibrary(t *testing.T) {
	for _, imp := range importcheck.Imports(t, ".") {
		if !importcheck.Standard(imp.Path) && imp.Path != "github.com/dbiam/dbiam/internal/secret" {
			t.Errorf("%s imports %s, which is not in the standard library", imp.File, imp.Path)
		}
	}
}
