package watch

// sources are a sensor's distinct sources, each given an id in order of
// first sight. A source logged as an IPv4 address in canonical dotted
// form (no leading zeros), which is what telescopes and most logs give,
// is kept as its 32-bit value in a map without pointers (fast to look up,
// nothing for the garbage collector to scan); any other text (an IPv6
// address, a host name) as a string.
type sources struct {
	v4    map[uint32]uint32 // address -> id
	text  map[string]uint32 // other text -> id
	key   []uint64          // by id: the address, or textBit | index into texts
	texts []string
}

const textBit = 1 << 32

func newSources() sources {
	return sources{v4: map[uint32]uint32{}, text: map[string]uint32{}}
}

// len returns the number of sources.
func (s *sources) len() int { return len(s.key) }

// find returns the id of source b.
func (s *sources) find(b []byte) (uint32, bool) {
	if a, ok := parseIPv4(b); ok {
		id, found := s.v4[a]
		return id, found
	}
	id, found := s.text[string(b)]
	return id, found
}

// add adds source b, which find did not find, and returns its id.
func (s *sources) add(b []byte) uint32 {
	id := uint32(len(s.key))
	if a, ok := parseIPv4(b); ok {
		s.v4[a] = id
		s.key = append(s.key, uint64(a))
		return id
	}
	t := string(b)
	s.text[t] = id
	s.key = append(s.key, textBit|uint64(len(s.texts)))
	s.texts = append(s.texts, t)
	return id
}

// String returns source id's text.
func (s *sources) string(id int) string {
	k := s.key[id]
	if k&textBit != 0 {
		return s.texts[k&^textBit]
	}
	return formatIPv4(uint32(k))
}

// parseIPv4 parses b as an IPv4 address in canonical dotted form: four
// numbers from 0 to 255 without leading zeros, so that formatIPv4 gives b
// back.
func parseIPv4(b []byte) (uint32, bool) {
	var a uint32
	part, digits, dots := uint32(0), 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && part == 0 { // a leading zero
				return 0, false
			}
			part = part*10 + uint32(c-'0')
			digits++
			if part > 255 {
				return 0, false
			}
		case c == '.' && digits > 0 && dots < 3:
			a = a<<8 | part
			part, digits = 0, 0
			dots++
		default:
			return 0, false
		}
	}
	if dots != 3 || digits == 0 {
		return 0, false
	}
	return a<<8 | part, true
}

// formatIPv4 returns a in dotted form.
func formatIPv4(a uint32) string {
	var buf [15]byte
	b := buf[:0]
	for i := 3; i >= 0; i-- {
		v := byte(a >> (8 * i))
		if v >= 100 {
			b = append(b, '0'+v/100)
		}
		if v >= 10 {
			b = append(b, '0'+v/10%10)
		}
		b = append(b, '0'+v%10)
		if i > 0 {
			b = append(b, '.')
		}
	}
	return string(b)
}
