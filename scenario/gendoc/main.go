// Command gendoc writes docs/scenario.md, the reference of scenario files,
// from the tags of the parameter structs. Run it from the repository root:
//
//	go run ./scenario/gendoc
//
// or with go generate ./scenario.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"wormwatch/scenario"
)

func main() {
	out := flag.String("o", "docs/scenario.md", "file to write")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

// write renders the document and puts it in place through a temporary file,
// so an interrupted run never leaves half a document.
func write(out string) error {
	var b bytes.Buffer
	if err := scenario.WriteDoc(&b); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".scenario-*.md")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
