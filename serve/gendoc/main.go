// Command gendoc rewrites the generated part of docs/serve.md, the tables
// of the configuration's keys, from the tags of serve.Config. Run it from
// the repository root:
//
//	go run ./serve/gendoc
//
// or with go generate ./serve.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"wormwatch/internal/atomicfile"
	"wormwatch/serve"
)

func main() {
	out := flag.String("o", "docs/serve.md", "file to rewrite")
	flag.Parse()
	if err := rewrite(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

// rewrite replaces the generated part of the file at path, through a
// temporary file renamed into place (atomicfile).
func rewrite(path string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc, err = serve.UpdateDoc(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(doc)
		return err
	})
}
