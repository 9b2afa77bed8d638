package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// Summary is the part of a run's summary.json that readers use
// (docs/output.md has every key); a pointer is nil when the file lacks the
// key.
type Summary struct {
	Scenario     *string    `json:"scenario"`
	Seed         *uint64    `json:"seed"`
	Version      string     `json:"version"`
	Start        *time.Time `json:"start"`
	End          *time.Time `json:"end"`
	BinSeconds   *float64   `json:"bin_seconds"`
	SpaceBits    *int       `json:"space_bits"`
	Variants     []string   `json:"variants"`
	EverInfected *int64     `json:"ever_infected"`
}

// ParseSummary decodes the summary.json named name from data. A file that
// is not the JSON object of docs/output.md is an *Error naming the line,
// and the key whose value has the wrong type.
func ParseSummary(data []byte, name string) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, JSONError(name, data, err)
	}
	return &s, nil
}

// JSONError turns an error of encoding/json on data, the contents of file
// name, into an *Error naming the line and, for a value of the wrong type,
// the key.
func JSONError(name string, data []byte, err error) error {
	line := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &Error{File: name, Line: line(se.Offset), Msg: "not valid JSON: " + err.Error()}
	case errors.As(err, &te):
		return &Error{File: name, Line: line(te.Offset), Msg: "key " + te.Field + ": a JSON " + te.Value + " cannot be a " + te.Type.String()}
	}
	return &Error{File: name, Msg: err.Error()}
}
