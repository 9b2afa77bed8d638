// Package gendoc is the body of the commands that write a document of
// docs/ from code (scenario/gendoc, forecast/gendoc, serve/gendoc): the
// -o flag naming the file, the writing through a temporary file renamed
// into place (internal/atomicfile: an interrupted run never leaves half a
// document), and the error on standard error with exit status 1. Each
// command's main is one call of Write or Rewrite.
package gendoc

import (
	"flag"
	"fmt"
	"io"
	"os"

	"wormwatch/internal/atomicfile"
)

// Write is the main of a command that writes a whole document: the file
// -o names (def by default), filled by write.
func Write(def string, write func(io.Writer) error) {
	run(def, "file to write", func(path string) error {
		return atomicfile.Write(path, write)
	})
}

// Rewrite is the main of a command that rewrites the generated part of a
// document: the file -o names (def by default) is read, and replaced by
// what update makes of its text.
func Rewrite(def string, update func(doc []byte) ([]byte, error)) {
	run(def, "file to rewrite", func(path string) error { return rewrite(path, update) })
}

// rewrite replaces the file at path with what update makes of its text;
// the file is left as it was when update fails.
func rewrite(path string, update func(doc []byte) ([]byte, error)) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc, err = update(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(doc)
		return err
	})
}

// run parses the flags and writes the file -o names with do, exiting with
// status 1 when it fails.
func run(def, usage string, do func(path string) error) {
	out := flag.String("o", def, usage)
	flag.Parse()
	if err := do(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
