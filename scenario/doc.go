package scenario

import (
	_ "embed"
	"fmt"
	"io"
	"strings"

	"wormwatch/internal/param"
)

//go:generate go run ./gendoc -o ../docs/scenario.md

// docIntro is the hand-written top of docs/scenario.md.
//
//go:embed docintro.md
var docIntro string

// WriteDoc writes docs/scenario.md: the hand-written introduction, the
// list of built-in scenarios and the reference of every key, generated from
// the tags of the parameter structs.
func WriteDoc(w io.Writer) error {
	var b strings.Builder
	b.WriteString(strings.TrimRight(docIntro, "\n") + "\n\n")
	b.WriteString("## Built-in scenarios\n\n| Name | Description |\n|---|---|\n")
	for _, bi := range Builtins() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", bi.Name, strings.ReplaceAll(bi.Description, "|", `\|`))
	}
	b.WriteString("\nShow one, with the source of each value, with `wormwatch scenario show NAME`.\n\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return param.Doc(w, new(Scenario))
}
