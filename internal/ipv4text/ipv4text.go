// Package ipv4text reads and writes IPv4 addresses in canonical dotted form
// (four numbers from 0 to 255, no leading zeros) as 32-bit values, without
// allocating: the per-source tables of detect and watch key an address by
// its value when its text is canonical, so that the text comes back
// exactly. Written by hand because net/netip parses only strings (a []byte
// converted on every log line would allocate) and formats through a string.
package ipv4text

// Parse parses b as an IPv4 address in canonical dotted form, so that
// Append gives b back; ok is false for anything else.
func Parse(b []byte) (a uint32, ok bool) {
	if len(b) < 7 || len(b) > 15 {
		return 0, false
	}
	part, digits, dots := uint32(0), 0, 0
	for _, c := range b {
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

// Append appends a in dotted form to b.
func Append(b []byte, a uint32) []byte {
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
	return b
}

// Format returns a in dotted form.
func Format(a uint32) string {
	var buf [15]byte
	return string(Append(buf[:0], a))
}
