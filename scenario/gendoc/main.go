// Command gendoc writes docs/scenario.md, the reference of scenario files,
// from the tags of the parameter structs. Run it from the repository root:
//
//	go run ./scenario/gendoc
//
// or with go generate ./scenario.
package main

import (
	"wormwatch/internal/gendoc"
	"wormwatch/scenario"
)

func main() {
	gendoc.Write("docs/scenario.md", scenario.WriteDoc)
}
