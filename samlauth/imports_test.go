package samlauth

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports enforces doc.go: the public packages (tests aside) import
// only the standard library, aws-sdk-go-v2 and smithy-go — never dbiam's
// internal packages.
func TestImports(t *testing.T) {
	for _, dir := range []string{".", "browsertest", "browsertest/cmd/chromium-login"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				first, _, _ := strings.Cut(path, "/")
				switch {
				case !strings.Contains(first, "."):
				case dir == "." && (strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/") || strings.HasPrefix(path, "github.com/aws/smithy-go")):
				case dir != "." && strings.HasPrefix(path, "github.com/dbiam/dbiam/samlauth/browsertest"):
				default:
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
		if checked == 0 {
			t.Errorf("no source files in %s", dir)
		}
	}
}
