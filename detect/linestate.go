package detect

import (
	"encoding/json"
	"errors"
	"fmt"
)

// lineState is what a LineReader knows between two lines, as MarshalState
// writes it: everything reading the next line depends on, and the counts
// its report entry shows. The time cache is left out: it is rebuilt on the
// next line.
type lineState struct {
	V         int               `json:"v"`
	Format    Format            `json:"format"`
	Sniffed   bool              `json:"sniffed"`
	Window    int               `json:"window,omitempty"`
	Line      int64             `json:"line"`
	Counts    Counts            `json:"counts"`
	FirstSkip [numReasons]int64 `json:"first_skip"`
	ZeekKind  zeekKind          `json:"zeek_kind,omitempty"`
	W3C       *w3cState         `json:"w3c,omitempty"`
	Zeek      *zeekState        `json:"zeek,omitempty"`
}

// w3cState is an IIS log's header state: the fields of the last #Fields
// header and the day of the last #Date directive.
type w3cState struct {
	N          int   `json:"n"`
	Pos        []int `json:"pos"` // date, time, c-ip, method, stem, query, uri, status, bytes, ua, referer, version
	DefDay     int64 `json:"def_day"`
	HaveDefDay bool  `json:"have_def_day"`
}

// zeekState is a Zeek TSV log's header state.
type zeekState struct {
	Sep      []byte   `json:"sep"`
	Unset    []byte   `json:"unset"`
	Empty    []byte   `json:"empty"`
	Kind     zeekKind `json:"kind"`
	PathSeen bool     `json:"path_seen"`
	Names    [][]byte `json:"names"`
	N        int      `json:"n"`
}

// lineStateVersion is the version of MarshalState's form.
const lineStateVersion = 1

// MarshalState returns the reader's state between two lines: the format
// chosen, the header in effect (IIS #Fields and #Date, Zeek's #separator,
// #fields and the like), the line number and the counts. A service stores
// it with the position after the last line given (in the same
// transaction), and ResumeLineReader, given the lines after that position,
// goes on exactly as this reader would have: the same records, counts and
// line numbers. It is an error while lines are held (Pending is not 0):
// their position is not one to store.
func (lr *LineReader) MarshalState() ([]byte, error) {
	if n := lr.Pending(); n > 0 {
		return nil, fmt.Errorf("%s: %d bytes of lines held while the format is chosen: no state to store yet", lr.rd.name, n)
	}
	if lr.src.ended {
		return nil, fmt.Errorf("%s: the input has ended", lr.rd.name)
	}
	rd := lr.rd
	st := lineState{V: lineStateVersion, Format: rd.format, Sniffed: rd.sniffed, Window: rd.window, Line: rd.line,
		Counts: rd.counts, FirstSkip: rd.firstSkip, ZeekKind: rd.zeekKind}
	if w := rd.w3c; w != nil {
		st.W3C = &w3cState{N: w.n, Pos: []int{w.date, w.time, w.cip, w.method, w.stem, w.query, w.uri, w.status, w.bytes, w.ua, w.ref, w.ver},
			DefDay: w.defDay, HaveDefDay: w.haveDefDay}
	}
	if z := rd.zeek; z != nil {
		st.Zeek = &zeekState{Sep: z.sep, Unset: z.unset, Empty: z.empty, Kind: z.kind, PathSeen: z.pathSeen, Names: z.names, N: z.n}
	}
	return json.Marshal(&st)
}

// ResumeLineReader returns a LineReader of the input called name that
// goes on from a state MarshalState wrote (with the same options), as the
// reader that wrote it would have; give it the lines after the position
// stored with the state. A state that is damaged or of another version is
// an error.
func ResumeLineReader(name string, opt ReaderOptions, state []byte) (*LineReader, error) {
	var st lineState
	if err := json.Unmarshal(state, &st); err != nil {
		return nil, &InputError{Name: name, Err: fmt.Errorf("stored reader state: %w", err)}
	}
	bad := func(why string) (*LineReader, error) {
		return nil, &InputError{Name: name, Err: errors.New("stored reader state: " + why)}
	}
	switch {
	case st.V != lineStateVersion:
		return bad(fmt.Sprintf("version %d, want %d", st.V, lineStateVersion))
	case st.Format > ZeekJSON || st.ZeekKind > zeekConn:
		return bad("unknown format")
	case st.Line < 0 || st.Window < 0:
		return bad("negative line number")
	case st.W3C != nil && len(st.W3C.Pos) != 12:
		return bad("IIS header of the wrong shape")
	}
	lr, err := NewLineReader(name, opt)
	if err != nil {
		return nil, err
	}
	rd := lr.rd
	if st.Format != Auto {
		rd.setFormat(st.Format)
	}
	rd.format, rd.sniffed, rd.window, rd.line = st.Format, st.Sniffed, st.Window, st.Line
	rd.counts, rd.firstSkip, rd.zeekKind = st.Counts, st.FirstSkip, st.ZeekKind
	if s := st.W3C; s != nil {
		if rd.w3c == nil {
			rd.w3c = newW3C()
		}
		w, p := rd.w3c, s.Pos
		w.n, w.defDay, w.haveDefDay = s.N, s.DefDay, s.HaveDefDay
		w.date, w.time, w.cip, w.method, w.stem, w.query, w.uri, w.status, w.bytes, w.ua, w.ref, w.ver =
			p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]
	}
	if s := st.Zeek; s != nil {
		if len(s.Sep) == 0 {
			return bad("Zeek header without a separator")
		}
		z := newZeekTSV()
		z.sep, z.unset, z.empty, z.kind, z.pathSeen = s.Sep, s.Unset, s.Empty, s.Kind, s.PathSeen
		z.names = s.Names
		z.index()
		z.n = s.N
		if z.n != 0 && z.n != len(z.names) {
			return bad("Zeek header of the wrong shape")
		}
		rd.zeek = z
	}
	return lr, nil
}
