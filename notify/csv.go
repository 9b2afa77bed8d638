package notify

import (
	"io"
	"slices"
	"strings"
	"time"
)

// CSVColumns are the columns of a notice's CSV, one row per address. The
// first eleven are those of Shadowserver's "Honeypot HTTP Scanner Events"
// report (event4_honeypot_http_scan) that detections can fill, under its
// names, in its order and with its time format ("2006-01-02 15:04:05",
// UTC), so that the tools abuse desks read those reports with (IntelMQ,
// AbuseIO) map them by name; the last three are wormwatch's own.
//
//	timestamp         the last time the address was seen
//	protocol          tcp (HTTP requests)
//	src_ip            the infected address
//	src_port          its source port; empty (logs do not hold it)
//	src_asn           the AS number of its owner table entry, when given
//	src_geo           its holder's country, from a delegation file
//	dst_port          the port its requests went to, when known
//	public_source     who saw it (this sensor, alliance members), ";"-separated
//	infection         http-scan, as Shadowserver writes for this report
//	family            the worm families of its requests, ";"-separated
//	vulnerability_id  the CVE ids those families exploit, ";"-separated
//	first_seen        the first time it was seen
//	count             its requests seen
//	owner             the owner told
var CSVColumns = []string{"timestamp", "protocol", "src_ip", "src_port", "src_asn", "src_geo", "dst_port",
	"public_source", "infection", "family", "vulnerability_id", "first_seen", "count", "owner"}

// WriteCSV writes a notice's addresses as CSV, one row per address in
// address order, under the header CSVColumns.
func (l *Letter) WriteCSV(w io.Writer, n *Notice) error {
	_, err := w.Write(l.render().csv(nil, n))
	return err
}

// cves returns the CVE ids of the advice for some families.
func (l *Letter) cves(fams []string) []string {
	var out []string
	for _, a := range l.guide().For(fams, l.Families) {
		out = append(out, a.CVEs...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// appendTime appends t in UTC as shadowTime does ("2006-01-02 15:04:05"),
// by hand: a million rows' times through time.Time.AppendFormat cost a
// third of writing the CSVs.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, shadowTime)
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	for i, v := range [5]int{int(mo), d, h, mi, s} {
		b = append(b, byte('0'+v/10), byte('0'+v%10), "- ::."[i]) // the separator after each; the last dropped
	}
	return b[:len(b)-1]
}

// appendField appends a CSV field, quoted when it must be (RFC 4180: a
// comma, a quote, a line break, or a leading space), and with a leading
// =, +, - or @ quoted and prefixed with ' so that a spreadsheet does not
// run it as a formula.
func appendField(b []byte, s string) []byte {
	formula := s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
	if !formula && !strings.ContainsAny(s, ",\"\r\n") && !strings.HasPrefix(s, " ") {
		return append(b, s...)
	}
	b = append(b, '"')
	if formula {
		b = append(b, '\'')
	}
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}
