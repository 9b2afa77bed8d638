package detect

// Reason is why a line was skipped.
type Reason uint8

// The reasons a line is skipped. Their names (Reason.String) are the keys
// of the skipped counts in the JSON output.
const (
	TooLong        Reason = iota // longer than the line length cap; not buffered
	Binary                       // holds NUL or other control bytes: binary junk
	InvalidUTF8                  // bytes that are not UTF-8
	Truncated                    // the last line of an input, without its newline, does not parse
	Empty                        // a blank line (nothing, or only spaces and tabs)
	BadSource                    // no client address field
	BadTime                      // the time field is missing or is not a valid time
	BadRequest                   // the quoted request line is missing or not closed
	BadStatus                    // the status field is not a number
	BadBytes                     // the bytes field is neither a number nor "-"
	MissingField                 // combined format: no quoted referer and user agent
	FieldCount                   // IIS W3C: not as many fields as the #Fields header names
	NoFieldsHeader               // IIS W3C: a data line before any #Fields header
	BadPort                      // Zeek: a port field that is not a number from 0 to 65535
	BadJSON                      // Zeek JSON: the line is not one JSON object
	numReasons

	// numAlways is the number of reasons the JSON and CSV outputs always
	// list (those of web-server logs); the later ones (Zeek's) are listed
	// when they have lines, so that a report of web-server logs stays as it
	// was before they were added.
	numAlways = BadPort
)

var reasonNames = [numReasons]string{
	TooLong:        "too_long",
	Binary:         "binary",
	InvalidUTF8:    "invalid_utf8",
	Truncated:      "truncated",
	Empty:          "empty",
	BadSource:      "bad_source",
	BadTime:        "bad_time",
	BadRequest:     "bad_request",
	BadStatus:      "bad_status",
	BadBytes:       "bad_bytes",
	MissingField:   "missing_field",
	FieldCount:     "field_count",
	NoFieldsHeader: "no_fields_header",
	BadPort:        "bad_port",
	BadJSON:        "bad_json",
}

// String returns the reason's key, such as "too_long".
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

var reasonText = [numReasons]string{
	TooLong:        "the line is longer than the line length cap",
	Binary:         "the line holds NUL or other control bytes",
	InvalidUTF8:    "the line is not valid UTF-8",
	Truncated:      "the last line has no newline and does not parse",
	Empty:          "the line is blank",
	BadSource:      "no client address field",
	BadTime:        "the time field is missing or is not a valid [dd/Mon/yyyy:hh:mm:ss +zzzz] time",
	BadRequest:     "the quoted request line is missing or not closed",
	BadStatus:      "the status field is not a number",
	BadBytes:       "the bytes field is missing or is neither a number nor -",
	MissingField:   "no quoted referer and user agent after the bytes field",
	FieldCount:     "the line has not as many fields as the #Fields header names",
	NoFieldsHeader: "a data line comes before any #Fields header",
	BadPort:        "a port field is not a number from 0 to 65535",
	BadJSON:        "the line is not one JSON object",
}

// Describe says in words what the reason means.
func (r Reason) Describe() string {
	if r < numReasons {
		return reasonText[r]
	}
	return "unknown reason"
}

// Reasons lists every reason, in a fixed order.
func Reasons() []Reason {
	out := make([]Reason, numReasons)
	for i := range out {
		out[i] = Reason(i)
	}
	return out
}

// listed reports whether the JSON and CSV outputs list reason r for a
// count of n lines: always for the reasons of web-server logs, when n > 0
// for the others.
func listed(r Reason, n int64) bool { return r < numAlways || n > 0 }

// ok is the "reason" of a line that parsed.
const ok Reason = 255
