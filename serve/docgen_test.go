package serve

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDocUpToDate fails when the tables of keys in docs/serve.md do not
// match the tags of Config.
func TestDocUpToDate(t *testing.T) {
	t.Parallel()
	have, err := os.ReadFile(filepath.Join("..", "docs", "serve.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := UpdateDoc(have)
	if err != nil || !bytes.Equal(have, want) {
		t.Fatalf("docs/serve.md is out of date (%v); regenerate it with: go run ./serve/gendoc", err)
	}
}
