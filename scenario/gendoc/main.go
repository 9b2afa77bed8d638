// Command gendoc writes docs/scenario.md, the reference of scenario files,
// from the tags of the parameter structs. Run it from the repository root:
//
//	go run ./scenario/gendoc
//
// or with go generate ./scenario.
package main

import (
	"flag"
	"fmt"
	"os"

	"wormwatch/internal/atomicfile"
	"wormwatch/scenario"
)

func main() {
	out := flag.String("o", "docs/scenario.md", "file to write")
	flag.Parse()
	// Written through a temporary file, so an interrupted run never leaves
	// half a document.
	if err := atomicfile.Write(*out, scenario.WriteDoc); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
