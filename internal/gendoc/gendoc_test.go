package gendoc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRewrite: the file is replaced by what update makes of its text; when
// update fails, the error names the file and the file is left as it was.
func TestRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := os.WriteFile(path, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	upper := func(doc []byte) ([]byte, error) { return bytes.ToUpper(doc), nil }
	if err := rewrite(path, upper); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "BEFORE\n" {
		t.Errorf("rewritten: %q, want %q", got, "BEFORE\n")
	}
	fail := func([]byte) ([]byte, error) { return []byte("half"), errors.New("no marker") }
	err := rewrite(path, fail)
	if err == nil || !strings.Contains(err.Error(), path+": no marker") {
		t.Errorf("a failing update: %v, want the file and the error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "BEFORE\n" {
		t.Errorf("after a failing update the file holds %q", got)
	}
	if err := rewrite(path+".missing", upper); err == nil {
		t.Error("a missing file rewritten without error")
	}
}
