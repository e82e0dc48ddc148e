// Package importcheck lets a package's tests enforce its import rules (say,
// "the standard library only"): it lists what the non-test files of a
// directory import.
package importcheck

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Import is one import of one source file.
type Import struct {
	File, Path string
}

// Imports returns the imports of the non-test .go files in dir, and fails
// the test if there are no such files (a rule checked against nothing would
// pass for nothing).
func Imports(t testing.TB, dir string) []Import {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var imports []Import
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			imports = append(imports, Import{File: name, Path: path})
		}
	}
	if checked == 0 {
		t.Fatalf("importcheck: no source files in %s", dir)
	}
	return imports
}

// Standard reports whether path is a standard-library package (its first
// element has no dot).
func Standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
