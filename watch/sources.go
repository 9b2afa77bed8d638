package watch

import (
	"encoding/binary"
	"wormwatch/internal/ipv4text"
)

// sources are a sensor's distinct sources, each given an id in order of
// first sight. A source logged as an IPv4 address in canonical dotted
// form (no leading zeros), which is what telescopes and most logs give,
// is kept as its 32-bit value in a table of its own (open addressing on
// words holding the address and the id: one memory access a look-up,
// nothing for the garbage collector to scan); any other text (an IPv6
// address, a host name) as a string.
type sources struct {
	v4    []uint64          // open addressing: address<<32 | id+1; 0 free; a power of two long, at most half full
	nv4   int               // addresses in v4
	text  map[string]uint32 // other text -> id
	key   []uint64          // by id: the address, or textBit | index into texts
	texts []string
}

const textBit = 1 << 32

func newSources() sources {
	return sources{text: map[string]uint32{}}
}

// len returns the number of sources.
func (s *sources) len() int { return len(s.key) }

// v4Hash mixes an address (a multiply-xorshift hash).
func v4Hash(a uint32) uint64 {
	x := uint64(a) * 0x9e3779b97f4a7c15
	return x ^ x>>29
}

// slot returns the index of address a's slot in v4, or of the free slot
// where it would go.
func (s *sources) slot(a uint32) int {
	mask := uint64(len(s.v4) - 1)
	for j := v4Hash(a) & mask; ; j = (j + 1) & mask {
		if v := s.v4[j]; v == 0 || uint32(v>>32) == a {
			return int(j)
		}
	}
}

// find returns the id of source b.
func (s *sources) find(b []byte) (uint32, bool) {
	if a, ok := ipv4text.Parse(b); ok {
		if s.nv4 == 0 {
			return 0, false
		}
		v := s.v4[s.slot(a)]
		return uint32(v) - 1, v != 0
	}
	id, found := s.text[string(b)]
	return id, found
}

// intern returns the id of source b, adding it if it is new (added).
func (s *sources) intern(b []byte) (id uint32, added bool) {
	a, ok := ipv4text.Parse(b)
	if !ok {
		if id, found := s.text[string(b)]; found {
			return id, false
		}
		return s.addText(b), true
	}
	return s.internV4(a)
}

// internV4 returns the id of IPv4 address a, adding it if it is new
// (added).
func (s *sources) internV4(a uint32) (id uint32, added bool) {
	if 2*(s.nv4+1) > len(s.v4) {
		s.growV4()
	}
	j := s.slot(a)
	if v := s.v4[j]; v != 0 {
		return uint32(v) - 1, false
	}
	id = uint32(len(s.key))
	s.v4[j] = uint64(a)<<32 | uint64(id+1)
	s.nv4++
	s.key = push(s.key, uint64(a))
	return id, true
}

// growV4 doubles the address table.
func (s *sources) growV4() {
	old := s.v4
	s.v4 = make([]uint64, max(1024, 2*len(old)))
	for _, v := range old {
		if v != 0 {
			s.v4[s.slot(uint32(v>>32))] = v
		}
	}
}

// add adds source b, which find did not find, and returns its id.
func (s *sources) add(b []byte) uint32 {
	id, _ := s.intern(b)
	return id
}

// addText adds a source that is not an IPv4 address.
func (s *sources) addText(b []byte) uint32 {
	id := uint32(len(s.key))
	t := string(b)
	s.text[t] = id
	s.key = push(s.key, textBit|uint64(len(s.texts)))
	s.texts = append(s.texts, t)
	return id
}

// String returns source id's text.
func (s *sources) string(id int) string {
	k := s.key[id]
	if k&textBit != 0 {
		return s.texts[k&^textBit]
	}
	return ipv4text.Format(uint32(k))
}

// appendKey appends source id as the log's recSources2 holds it: 0 and
// the address in 4 bytes (big-endian) for an IPv4 address, else its
// length plus one and its text.
func (s *sources) appendKey(b []byte, id int) []byte {
	k := s.key[id]
	if k&textBit != 0 {
		t := s.texts[k&^textBit]
		b = binary.AppendUvarint(b, uint64(len(t))+1)
		return append(b, t...)
	}
	b = append(b, 0)
	return binary.BigEndian.AppendUint32(b, uint32(k))
}

// addKey adds a source read as appendKey wrote it: IPv4 address a when
// v4, else text. It must be new: ok is false when it is not.
func (s *sources) addKey(v4 bool, a uint32, text []byte) (ok bool) {
	if v4 {
		if s.nv4 > 0 && s.v4[s.slot(a)] != 0 {
			return false
		}
		_, added := s.internV4(a)
		return added
	}
	if _, found := s.find(text); found {
		return false
	}
	s.add(text)
	return true
}
