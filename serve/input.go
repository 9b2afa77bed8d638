package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"wormwatch/detect"
	"wormwatch/ingest/follow"
	"wormwatch/store"
)

// source is one configured input as the loop runs it: its configuration
// and the goroutine that reads it. A followed log is one store input;
// a pcap input is one store input per capture (a folder's files).
type source struct {
	cfg     Input
	sensors []int // the watch's indices of its sensor, then of the pools it is in
	gen     int   // the generation of its goroutine (reload restarts it)
	cancel  context.CancelFunc
	log     *input // a followed log's input
	err     string // the last error of reading, "" while it reads
}

// input is one input of the store: a followed log, a capture, or an input
// read before and no longer configured (counted in reports as stored).
type input struct {
	id      int64
	key     string
	name    string // in reports
	kind    InputKind
	sensors []int   // the watch's indices of its sensor and pools (source.sensors); none before it is read
	src     *source // the configured input that reads it; nil before it is read
	emit    func(*detect.Record) error

	// a followed log
	lr  *detect.LineReader
	pos follow.Position // after the last chunk fed

	// a capture (or an input no longer read): its entry in reports
	entry   detect.Input
	base    *detect.Input // standard input: what earlier runs read of it
	through int64         // a capture's records counted
	done    bool          // a capture read to its end

	stored  store.Input // as last committed
	dirty   bool        // changed since the last commit
	fed     bool        // given a chunk since the last tick
	records int64       // records counted since the service started
}

// Input returns the input's entry in reports (detect.InputSource).
func (in *input) Input() detect.Input {
	if in.lr != nil {
		return in.lr.Input()
	}
	if in.base == nil {
		return in.entry
	}
	return sumInputs(*in.base, in.entry)
}

// sumInputs returns the entry of a stream read in two runs: a's counts
// and then b's.
func sumInputs(a, b detect.Input) detect.Input {
	out := b
	if out.Format == "" || out.Format == "auto" {
		out.Format = a.Format
	}
	out.Lines += a.Lines
	out.Parsed += a.Parsed
	out.Directives += a.Directives
	for i := range out.Skipped {
		out.Skipped[i] += a.Skipped[i]
	}
	if a.Packets != nil {
		p := *a.Packets
		if b.Packets != nil {
			p.Packets += b.Packets.Packets
			p.SYNs += b.Packets.SYNs
			p.Requests += b.Packets.Requests
			p.Undecoded += b.Packets.Undecoded
		}
		out.Packets = &p
	}
	return out
}

// capturePosition is the text of a capture's position in the store:
// "capture:RECORDS" or "capture:RECORDS:done".
func capturePosition(through int64, done bool) string {
	s := "capture:" + strconv.FormatInt(through, 10)
	if done {
		s += ":done"
	}
	return s
}

// parseCapturePosition reads what capturePosition writes ("" is the start).
func parseCapturePosition(s string) (through int64, done bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	rest, ok := strings.CutPrefix(s, "capture:")
	if rest, done = strings.CutSuffix(rest, ":done"); !ok {
		return 0, false, fmt.Errorf("capture position %q: want capture:N", s)
	}
	through, err = strconv.ParseInt(rest, 10, 64)
	if err != nil || through < 0 {
		return 0, false, fmt.Errorf("capture position %q: want capture:N", s)
	}
	return through, done, nil
}

// storeInput returns what the store keeps of the input now: its position,
// the reader's state and its entry in reports. A followed log whose reader
// still holds lines (its format not chosen yet) keeps what was stored:
// those lines will be read again.
func (in *input) storeInput() (store.Input, error) {
	out := in.stored
	switch {
	case in.lr != nil:
		if in.lr.Pending() > 0 {
			return out, nil
		}
		state, err := in.lr.MarshalState()
		if err != nil {
			return out, err
		}
		text, err := in.pos.MarshalText()
		if err != nil {
			return out, err
		}
		out.Position, out.Reader = string(text), state
		if in.pos.IsZero() {
			out.Position = ""
		}
	case in.kind.captures():
		out.Position = capturePosition(in.through, in.done)
	}
	rep, err := json.Marshal(in.Input())
	if err != nil {
		return out, err
	}
	out.Report = rep
	return out, nil
}
