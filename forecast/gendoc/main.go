// Command gendoc rewrites the generated part of docs/forecast.md, the
// table of the re-emergence state's keys, from the tags of
// forecast.Reemergence. Run it from the repository root:
//
//	go run ./forecast/gendoc
//
// or with go generate ./forecast.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"wormwatch/forecast"
	"wormwatch/internal/atomicfile"
)

func main() {
	out := flag.String("o", "docs/forecast.md", "file to rewrite")
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
	doc, err = forecast.UpdateDoc(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(doc)
		return err
	})
}
