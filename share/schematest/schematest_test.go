package schematest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// examples lists the example files of one kind under the schemas folder.
func examples(t *testing.T, sub string) []string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind Kind
		sub  string
		min  int
	}{
		{STIX, "stix2.1/examples", 8},
		{CSAF, "csaf2.0/examples/csaf", 18},
	}
	for _, c := range cases {
		files := examples(t, c.sub)
		if len(files) < c.min {
			t.Fatalf("%s: found %d examples, want at least %d", c.sub, len(files), c.min)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(c.kind, b); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
}
