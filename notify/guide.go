package notify

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

//go:embed guidance.toml
var guidanceTOML []byte

// Advice is what a notice says of a family, or of families seen together:
// what the requests mean, how to clean the machine, how to patch it, and
// where to read more.
type Advice struct {
	Families []string // the families it is written for
	Also     []string // the families it explains too when seen with one of them
	Title    string
	Means    string
	Clean    string
	Patch    string
	Links    []string // the advisory first, then references
	CVEs     []string
}

// Guide is the advice of every family it knows: the built-in guide
// (guidance.toml) by default.
type Guide struct {
	Advice []Advice
}

// BuiltinGuide returns the embedded guide: Code Red I and II, the
// .ida/.idq overflow rule and Nimda.
func BuiltinGuide() *Guide {
	var doc struct {
		Guide []struct {
			Families, Also, Links, CVEs []string
			Title, Means, Clean, Patch  string
		} `toml:"guide"`
	}
	dec := toml.NewDecoder(bytes.NewReader(guidanceTOML))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		panic(fmt.Sprintf("notify: guidance.toml: %v", err)) // embedded: a test reads it
	}
	g := &Guide{}
	for _, e := range doc.Guide {
		g.Advice = append(g.Advice, Advice{Families: e.Families, Also: e.Also, Title: e.Title, Means: e.Means,
			Clean: e.Clean, Patch: e.Patch, Links: e.Links, CVEs: e.CVEs})
	}
	return g
}

// For returns the advice for a set of families, in the guide's order: the
// entries written for any of them, then, for each family neither written
// for nor explained by those, advice made from what detections said of it
// (fams; its description and references).
func (g *Guide) For(families []string, fams map[string]Family) []Advice {
	var out []Advice
	explained := map[string]bool{}
	for _, a := range g.Advice {
		if slices.ContainsFunc(a.Families, func(f string) bool { return slices.Contains(families, f) && !explained[f] }) {
			out = append(out, a)
			for _, f := range slices.Concat(a.Families, a.Also) {
				explained[f] = true
			}
		}
	}
	for _, f := range families {
		if !explained[f] {
			out = append(out, generic(f, fams))
		}
	}
	return out
}

var reCVE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// generic is the advice for a family the guide does not know.
func generic(name string, fams map[string]Family) Advice {
	f, ok := fams[name]
	if !ok {
		f = Family{Name: name}
	}
	a := Advice{Families: []string{name}, Title: f.DisplayName()}
	a.Means = fmt.Sprintf("The address sent requests that match %q", a.Title)
	if f.Description != "" {
		a.Means += ": " + strings.TrimSpace(f.Description)
	} else {
		a.Means += "."
	}
	if f.Kind == "rule" {
		a.Means += " This is a shape that several worms and scanners share: the machine may be infected, or someone may be scanning from it."
	}
	a.Clean = "Find the machine at this address and the program that sends these requests. A machine that sends a worm's requests to addresses it does not own is almost always infected: take it off the network, clean or rebuild it, and patch it before it is connected again."
	a.Patch = "See the references below for the hole these requests try and its patch."
	for _, r := range f.References {
		switch {
		case reCVE.MatchString(r):
			a.CVEs = append(a.CVEs, r)
			a.Links = append(a.Links, "https://www.cve.org/CVERecord?id="+r)
		default:
			a.Links = append(a.Links, r)
		}
	}
	return a
}

// title returns a family's title for people: the detections' title, the
// guide's, or its name.
func (g *Guide) title(name string, fams map[string]Family) string {
	if f, ok := fams[name]; ok && f.Title != "" {
		return f.Title
	}
	for _, a := range g.Advice {
		if len(a.Families) == 1 && a.Families[0] == name {
			return a.Title
		}
	}
	return name
}
