package server

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sesameauth/sesame/"

// TestLayers keeps the package graph of docs/architecture.md true: leaves import no other
// package of ours than leaves, nothing below the HTTP surfaces imports net/http, and services never reach up.
func TestLayers(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := map[string][]string{} // package (relative to the module) -> imports (same form, or std path)
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() == "testdata" {
			return err
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // a folder without Go files
		}
		rel, _ := filepath.Rel(root, path)
		for _, imp := range pkg.Imports {
			imports[filepath.ToSlash(rel)] = append(imports[filepath.ToSlash(rel)], strings.TrimPrefix(imp, module))
		}
		if _, ok := imports[filepath.ToSlash(rel)]; !ok {
			imports[filepath.ToSlash(rel)] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ours := func(imp string) bool { return strings.HasPrefix(imp, "internal/") || imp == "apiauth" }
	leaves := []string{"internal/store", "internal/directory", "internal/config", "internal/seal", "internal/hooks"}
	noHTTP := []string{"internal/store", "internal/store/sqlstore", "internal/directory", "internal/directory/database",
		"internal/directory/ldap", "internal/directory/mirror", "internal/directory/scripted",
		"internal/config", "internal/seal", "internal/token", "internal/password", "internal/logs", "internal/admin",
		"internal/mfa", "internal/guard", "internal/hooks", "internal/passwordless"}
	upper := []string{"internal/server", "internal/cli", "internal/oauthserver", "internal/mgmtapi", "internal/demoapi", "internal/webui", "internal/metrics", "internal/tracing"}
	for _, want := range append(slices.Clone(leaves), "internal/oauthserver", "internal/token") {
		if _, ok := imports[want]; !ok {
			t.Fatalf("package %s not found: is the test reading the right tree?", want)
		}
	}
	for pkg, imps := range imports {
		for _, imp := range imps {
			switch {
			case slices.Contains(leaves, pkg) && ours(imp) && !slices.Contains(leaves, imp):
				t.Errorf("leaf %s imports %s", pkg, imp)
			case slices.Contains(noHTTP, pkg) && imp == "net/http":
				t.Errorf("%s is below the HTTP layer but imports net/http", pkg)
			case !slices.Contains(upper, pkg) && pkg != "internal/cli" && slices.Contains(upper, imp):
				t.Errorf("%s reaches up to %s", pkg, imp)
			case pkg == "internal/oauthserver" && (imp == "internal/server" || imp == "internal/cli" || imp == "internal/admin"):
				t.Errorf("oauthserver imports %s", imp)
			case pkg == "internal/mgmtapi" && (imp == "internal/server" || imp == "internal/cli" || imp == "internal/oauthserver"):
				// The Management API reaches the tenant only through admin, never the token pipeline.
				t.Errorf("mgmtapi imports %s", imp)
			case pkg == "internal/webui" && ours(imp):
				// The console is a client of the Management API: it reaches no service or store.
				t.Errorf("webui imports %s", imp)
			}
		}
	}
}
