package query

import (
	"testing"

	"github.com/dbiam/dbiam/internal/testutil/importcheck"
)

// TestImportsOnlyStandardLibrary enforces the rule in doc.go: the package
// (tests aside) imports nothing outside the standard library.
func TestImportsOnlyStandardLibrary(t *testing.T) {
	for _, imp := range importcheck.Imports(t, ".") {
		if !importcheck.Standard(imp.Path) {
			t.Errorf("%s imports %s, which is not in the standard library", imp.File, imp.Path)
		}
	}
}
