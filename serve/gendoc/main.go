// Command gendoc rewrites the generated part of docs/serve.md, the tables
// of the configuration's keys, from the tags of serve.Config. Run it from
// the repository root:
//
//	go run ./serve/gendoc
//
// or with go generate ./serve.
package main

import (
	"wormwatch/internal/gendoc"
	"wormwatch/serve"
)

func main() {
	gendoc.Rewrite("docs/serve.md", serve.UpdateDoc)
}
