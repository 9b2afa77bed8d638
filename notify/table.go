package notify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TableColumns are the columns of an owner table: prefix, owner and
// contact are required, asn is optional; the header names them in any
// order.
var TableColumns = []string{"prefix", "owner", "contact", "asn"}

// MaxNameLen bounds an owner's name, in bytes.
const MaxNameLen = 200

// ParseTable reads an owner table: CSV with a header row naming the
// columns (TableColumns), then one row per prefix: the prefix (an address
// alone is a /32 or /128), the owner's name, its abuse contact's e-mail
// address (may be empty: the owner's notices are then written, not sent)
// and its AS number (optional: AS64500 or 64500). Lines starting with #
// are comments. Every row of one owner must give the same contact; no
// prefix may be given twice. name is the file's name in errors.
func ParseTable(r io.Reader, name string) ([]Assignment, error) {
	cr := csv.NewReader(r)
	cr.Comment, cr.FieldsPerRecord, cr.ReuseRecord = '#', -1, true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, inputErr(name, 0, "", "empty: want a header row (%s) and a row per prefix", strings.Join(TableColumns, ","))
	}
	if err != nil {
		return nil, csvErr(name, err)
	}
	col, err := tableHeader(head, name, line(cr))
	if err != nil {
		return nil, err
	}
	var out []Assignment
	contacts := map[string]int{} // owner -> the index in out of its first row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		a, err := tableRow(rec, col, name, line(cr))
		if err != nil {
			return nil, err
		}
		if i, ok := contacts[a.Owner.Key]; ok && out[i].Owner.Contact != a.Owner.Contact {
			return nil, inputErr(name, a.Line, "contact", "%q for owner %q, whose row on line %d gives %q: an owner has one contact", a.Owner.Contact, a.Owner.Key, out[i].Line, out[i].Owner.Contact)
		} else if !ok {
			contacts[a.Owner.Key] = len(out)
		}
		out = append(out, a)
	}
}

// line returns the line of the record the reader read last.
func line(cr *csv.Reader) int {
	l, _ := cr.FieldPos(0)
	return l
}

// csvErr turns the CSV reader's error into an *InputError.
func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return inputErr(name, pe.Line, "", "%v", pe.Err)
	}
	return inputErr(name, 0, "", "%v", err)
}

// tableHeader checks the header row and returns the column of each name
// (-1 for asn when absent).
func tableHeader(head []string, name string, ln int) (map[string]int, error) {
	col := map[string]int{"asn": -1}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(TableColumns, h) {
			return nil, inputErr(name, ln, "header", "unknown column %q: want %s (asn optional)", head[i], strings.Join(TableColumns, ","))
		}
		if j, dup := col[h]; dup && j >= 0 {
			return nil, inputErr(name, ln, h, "column %q named twice in the header", h)
		}
		col[h] = i
	}
	for _, h := range TableColumns[:3] {
		if _, ok := col[h]; !ok {
			return nil, inputErr(name, ln, h, "the header has no column %q (want %s, asn optional)", h, strings.Join(TableColumns, ","))
		}
	}
	return col, nil
}

// tableRow reads one row.
func tableRow(rec []string, col map[string]int, name string, ln int) (Assignment, error) {
	get := func(c string) string {
		if i := col[c]; i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	a := Assignment{File: name, Line: ln}
	if len(rec) != len(col)-btoi(col["asn"] < 0) {
		return a, inputErr(name, ln, "", "%d fields, the header names %d", len(rec), len(col)-btoi(col["asn"] < 0))
	}
	p, err := ParsePrefix(get("prefix"))
	if err != nil {
		return a, inputErr(name, ln, "prefix", "%v", err)
	}
	a.First, a.Last = p.Addr(), lastOf(p)
	owner := get("owner")
	if err := checkName(owner); err != nil {
		return a, inputErr(name, ln, "owner", "%v", err)
	}
	a.Owner = Owner{Key: owner, Name: owner}
	if a.Owner.Contact, err = ParseContact(get("contact")); err != nil {
		return a, inputErr(name, ln, "contact", "%v", err)
	}
	if a.ASN, err = parseASN(get("asn")); err != nil {
		return a, inputErr(name, ln, "asn", "%v", err)
	}
	return a, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ParsePrefix reads a prefix (192.0.2.0/24, 2001:db8::/32) or an address
// alone (a /32 or /128). The prefix must have no bits set past its length,
// and IPv4 is written as IPv4, not as IPv4-mapped IPv6.
func ParsePrefix(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, errors.New("empty: want a prefix such as 192.0.2.0/24 or 2001:db8::/32")
	}
	var p netip.Prefix
	var err error
	if strings.Contains(s, "/") {
		p, err = netip.ParsePrefix(s)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(s); err == nil && a.Zone() != "" {
			return p, errors.New(s + ": an address with a zone is not a prefix")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	switch {
	case err != nil:
		why := err.Error()
		if i := strings.LastIndex(why, "): "); i >= 0 {
			why = why[i+3:] // netip's reason, without its quoting of the input
		}
		return p, fmt.Errorf("%q: %s; want a prefix such as 192.0.2.0/24 or 2001:db8::/32", s, why)
	case p.Addr().Is4In6():
		return p, errors.New(s + ": an IPv4-mapped IPv6 prefix; write it as IPv4")
	case p.Masked() != p:
		return p, errors.New(s + ": bits set past the prefix length; the prefix is " + p.Masked().String())
	}
	return p, nil
}

// lastOf returns the last address of a prefix.
func lastOf(p netip.Prefix) netip.Addr {
	_, hi := prefixRange(p)
	return hi.addr()
}

// checkName checks an owner's name: not empty, at most MaxNameLen bytes of
// printable UTF-8.
func checkName(s string) error {
	switch {
	case s == "":
		return errors.New("empty: want the owner's name")
	case len(s) > MaxNameLen:
		return errors.New("longer than " + strconv.Itoa(MaxNameLen) + " bytes")
	case !utf8.ValidString(s):
		return errors.New("not valid UTF-8")
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return errors.New("holds a control character")
	}
	return nil
}

// ParseContact reads an abuse contact: empty, or one e-mail address
// (abuse@example.net), without a display name.
func ParseContact(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return "", errors.New(strconv.Quote(s) + " is not an e-mail address such as abuse@example.net")
	}
	return s, nil
}

// parseASN reads an AS number: empty (0), 64500 or AS64500.
func parseASN(s string) (uint32, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(s), "AS"), 10, 32)
	if err != nil || n == 0 || n == 1<<32-1 {
		return 0, errors.New(strconv.Quote(s) + " is not an AS number (1 to 4294967294, AS optional)")
	}
	return uint32(n), nil
}
