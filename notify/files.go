package notify

import (
	"fmt"
	"io"
	"os"
	"strings"

	"wormwatch/internal/thousands"
)

// readFile opens path and reads it with fn, naming it path in errors; a
// file that cannot be opened is an *InputError too.
func readFile[T any](path string, fn func(io.Reader, string) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, inputErr(path, 0, "", "%v", pathless(err))
	}
	defer f.Close()
	return fn(f, path)
}

// pathless drops the path of an *os.PathError (the caller names it).
func pathless(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// LoadOwners reads the owner table at table (none when "") and the
// delegation files, and builds the lookup.
func LoadOwners(table string, delegations []string) (*Owners, error) {
	var t, d []Assignment
	if table != "" {
		var err error
		if t, err = readFile(table, ParseTable); err != nil {
			return nil, err
		}
	}
	for _, p := range delegations {
		as, err := readFile(p, ParseDelegations)
		if err != nil {
			return nil, err
		}
		d = append(d, as...)
	}
	return NewOwners(t, d)
}

// LoadOptOut reads the opt-out list at path; "" gives none (nil).
func LoadOptOut(path string) (*OptOut, error) {
	if path == "" {
		return nil, nil
	}
	return readFile(path, ParseOptOut)
}

// LoadReport reads detect's JSON report at path.
func LoadReport(path, reporter string) (*Detections, error) {
	return readFile(path, func(r io.Reader, name string) (*Detections, error) { return ReadReport(r, name, reporter) })
}

// LoadSTIX reads a STIX bundle's sightings at path.
func LoadSTIX(path, reporter string) (*Detections, error) {
	return readFile(path, func(r io.Reader, name string) (*Detections, error) { return ReadSTIX(r, name, reporter) })
}

// Summary says in a few lines what a run planned, wrote and sent.
type Summary struct {
	Detections *Detections
	Notices    []Notice
	Left       Left
	Skipped    int64  // addresses left out: reported in the window already
	Dir        string // where the notices were written; "" if not
	Sent       *Sent  // nil when nothing was sent
}

// WriteText writes the summary for the operator.
func (s *Summary) WriteText(w io.Writer) error {
	var addrs int64
	owners := 0
	for i := range s.Notices {
		addrs += int64(len(s.Notices[i].Sources))
		if s.Notices[i].Owner.Contact != "" {
			owners++
		}
	}
	n := thousands.Int
	var b strings.Builder
	fmt.Fprintf(&b, "%s notices, %s addresses (%s with an abuse contact)", n(int64(len(s.Notices))), n(addrs), n(int64(owners)))
	if s.Dir != "" {
		fmt.Fprintf(&b, ", written to %s", s.Dir)
	}
	b.WriteString("\n")
	l := s.Left
	fmt.Fprintf(&b, "left out: %s addresses no owner is known to hold, %s in opted-out prefixes, %s of %s opted-out owners, %s of other families, %s reported in the window already",
		n(l.Unowned), n(l.OptedOut), n(l.OptedOutAddrs), n(int64(l.OptedOutOwners)), n(l.OtherFamilies), n(s.Skipped))
	if d := s.Detections; d != nil && (d.Hosts > 0 || d.WithheldTLP > 0) {
		fmt.Fprintf(&b, ", %s sources logged as host names, %s TLP:RED or AMBER+STRICT sightings withheld", n(d.Hosts), n(d.WithheldTLP))
	}
	if d := s.Detections; d != nil && d.Unresolved > 0 {
		fmt.Fprintf(&b, ", %s sightings whose indicator or observed-data was not read", n(d.Unresolved))
	}
	b.WriteString("\n")
	if t := s.Sent; t != nil {
		fmt.Fprintf(&b, "sent %s messages reporting %s addresses; %s failed, %s owners without a contact, %s with every address reported already (see the ledger)\n",
			n(int64(t.Messages)), n(t.Addresses), n(int64(t.Failed)), n(int64(t.NoContact)), n(int64(t.Reported)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
