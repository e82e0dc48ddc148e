package importcheck

import "testing"

func TestImports(t *testing.T) {
	var found bool
	for _, imp := range Imports(t, ".") {
		if imp.Path == "go/parser" && imp.File == "importcheck.go" {
			found = true
		}
	}
	if !found {
		t.Error("go/parser not listed")
	}
	for path, want := range map[string]bool{"strings": true, "go/parser": true, "github.com/jackc/pgx/v5": false, "golang.org/x/time/rate": false} {
		if Standard(path) != want {
			t.Errorf("Standard(%q) = %v", path, !want)
		}
	}
}
