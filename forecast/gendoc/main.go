// Command gendoc rewrites the generated part of docs/forecast.md, the
// table of the re-emergence state's keys, from the tags of
// forecast.Reemergence. Run it from the repository root:
//
//	go run ./forecast/gendoc
//
// or with go generate ./forecast.
package main

import (
	"wormwatch/forecast"
	"wormwatch/internal/gendoc"
)

func main() {
	gendoc.Rewrite("docs/forecast.md", forecast.UpdateDoc)
}
