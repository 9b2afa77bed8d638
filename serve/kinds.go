package serve

import (
	"fmt"

	"wormwatch/detect"
	"wormwatch/internal/param"
)

// InputKind is what an input reads (input.kind in a configuration file):
// one of the kinds registered in inputKinds, which give its allowed
// values, their documentation in docs/serve.md and what each does.
type InputKind string

// The kinds of inputs.
const (
	KindLog  InputKind = "log"  // a web-server log, followed (--follow)
	KindZeek InputKind = "zeek" // a Zeek log, followed (--zeek)
	KindPcap InputKind = "pcap" // captures, each read whole (--pcap)
)

// inputKind is what one kind of input does.
type inputKind struct {
	flag string // the flag of wormwatch serve that gives one, without its dashes
	// capture: its files are captures, each read whole once stable (a
	// folder's files, standard input), its position a count of records;
	// otherwise a log followed, its position a follow.Position.
	capture bool
	// format checks the log format given (nil: the kind takes none, its
	// files are told by their first bytes).
	format func(f detect.Format, text string) error
}

// inputKinds are the kinds of inputs, in the order the documentation
// lists them.
var inputKinds = param.NewRegistry[InputKind, inputKind]("input kind")

func init() {
	inputKinds.Register(KindLog, 0, "a web-server log followed (tail -F)", inputKind{flag: "follow", format: func(f detect.Format, text string) error {
		if f == detect.ZeekTSV || f == detect.ZeekJSON {
			return fmt.Errorf("%s: a Zeek log is kind zeek (--zeek)", text)
		}
		return nil
	}})
	inputKinds.Register(KindZeek, 1, "a Zeek http.log or conn.log followed", inputKind{flag: "zeek", format: func(f detect.Format, text string) error {
		if f != detect.Auto && f != detect.ZeekTSV && f != detect.ZeekJSON {
			return fmt.Errorf("%s: allowed for kind zeek: auto, zeek, zeek-json", text)
		}
		return nil
	}})
	inputKinds.Register(KindPcap, 2, "a capture file, a folder of captures, or - for standard input", inputKind{flag: "pcap", capture: true})
}

// Enum lists the kinds of inputs (see param.Enumerated).
func (InputKind) Enum() []string { return inputKinds.Names() }

// ParamDoc documents the kinds of inputs, for input.kind.
func (InputKind) ParamDoc() string { return inputKinds.Doc() }

// captures reports whether inputs of kind k are captures, read whole,
// rather than logs followed. An unknown kind (only a store written by
// another version could hold one) is a log.
func (k InputKind) captures() bool {
	v, _ := inputKinds.Lookup(k)
	return v.capture
}

// stdinKey is the store's key of standard input (Input.key of the pcap
// input -).
const stdinKey = string(KindPcap) + ":-"
