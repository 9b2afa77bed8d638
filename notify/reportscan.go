package notify

// fastSource takes apart an element of the report's "sources" that the
// JSON decoder has read whole (so its syntax is valid and no name is
// repeated) when it has the shape detect writes: an object whose names and
// strings hold no escapes, source, first_seen and last_seen strings, lines
// a plain count, families an array of strings, other members skipped. It
// keeps slices of the element's bytes, good until the decoder reads on.
// Written by hand: the JSON library's decoding of a million such elements
// into a struct took half the time of a notification run's reading;
// anything else is left to it.
type fastSource struct {
	src, first, last []byte
	lines            int64
	families         [][]byte
}

// parse takes raw apart; false when it has another shape.
func (f *fastSource) parse(raw []byte) bool {
	*f = fastSource{families: f.families[:0]}
	if len(raw) < 2 || raw[0] != '{' {
		return false
	}
	i := skipSpace(raw, 1)
	for raw[i] != '}' {
		name, j, ok := plainString(raw, i)
		if !ok {
			return false
		}
		i = skipSpace(raw, skipSpace(raw, j)+1) // past the colon
		switch string(name) {
		case "source":
			f.src, i, ok = plainString(raw, i)
		case "first_seen":
			f.first, i, ok = plainString(raw, i)
		case "last_seen":
			f.last, i, ok = plainString(raw, i)
		case "lines":
			f.lines, i, ok = plainCount(raw, i)
		case "families":
			i, ok = f.strings(raw, i)
		default:
			i, ok = skipValue(raw, i), true
		}
		if !ok {
			return false
		}
		if i = skipSpace(raw, i); raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return true
}

// strings reads an array of plain strings at raw[i] into families.
func (f *fastSource) strings(raw []byte, i int) (int, bool) {
	if raw[i] != '[' {
		return i, false
	}
	for i = skipSpace(raw, i+1); raw[i] != ']'; {
		s, j, ok := plainString(raw, i)
		if !ok {
			return i, false
		}
		f.families = append(f.families, s)
		if i = skipSpace(raw, j); raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return i + 1, true
}

// source checks the element, as reportSource.source does.
func (f *fastSource) source(in *interner) (Source, bool, *InputError) {
	return check(f.src, f.first, f.last, f.lines, f.families, in)
}

// plainString returns the string at raw[i] and the index past it; ok is
// false when raw[i] is not a string or the string holds an escape.
func plainString(raw []byte, i int) (s []byte, next int, ok bool) {
	if raw[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			return raw[i+1 : j], j + 1, true
		case '\\':
			return nil, i, false
		}
	}
	return nil, i, false
}

// plainCount returns the number at raw[i] when it is a count from 1 to
// 10^18-1 written plainly (digits, no leading zero); ok is false for
// anything else.
func plainCount(raw []byte, i int) (n int64, next int, ok bool) {
	j := i
	for ; j < len(raw) && raw[j] >= '0' && raw[j] <= '9'; j++ {
		n = n*10 + int64(raw[j]-'0')
	}
	if j == i || j-i > 18 || raw[i] == '0' || j == len(raw) || !delimiter(raw[j]) {
		return 0, i, false
	}
	return n, j, true
}

// delimiter says whether c may follow a number.
func delimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index past the valid JSON value at raw[i].
func skipValue(raw []byte, i int) int {
	depth := 0
	for ; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			for i++; raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the enclosing object, after a number or a literal
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}
