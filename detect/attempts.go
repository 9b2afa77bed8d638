package detect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Connection attempts are counted the way the network telescope analyses
// of Code Red and Slammer counted them (CAIDA): every SYN into dark space is
// unsolicited, so each attempt counts, per transport and destination port,
// with its distinct sources (a source counted once, however many attempts
// it made) and its first and last time.

// SeriesKind is what a sensor series counts.
type SeriesKind uint8

// The kinds of series.
const (
	SeriesRequests SeriesKind = iota // requests that matched a signature (lines of a web-server log)
	SeriesAttempts                   // connection attempts (TCP SYNs, Zeek conn.log attempts)
	SeriesAuto                       // requests, unless none matched and attempts were counted: then every attempt
)

// SeriesOf says what a sensor series counts. The zero value counts matched
// requests.
type SeriesOf struct {
	Kind      SeriesKind
	Transport Transport // with SeriesAttempts: only the attempts of this transport, to Port; NoTransport: every attempt
	Port      uint16    // with a Transport: the destination port
}

// SeriesOfNames lists the values ParseSeriesOf accepts, for messages.
const SeriesOfNames = "auto, requests, attempts, syn:PORT (= tcp:PORT), tcp:PORT, udp:PORT"

// ParseSeriesOf reads a --series-of value: auto, requests, attempts (every
// connection attempt), or tcp:PORT (syn:PORT) or udp:PORT (the attempts to
// one port).
func ParseSeriesOf(s string) (SeriesOf, error) {
	switch strings.ToLower(s) {
	case "auto":
		return SeriesOf{Kind: SeriesAuto}, nil
	case "requests", "":
		return SeriesOf{}, nil
	case "attempts":
		return SeriesOf{Kind: SeriesAttempts}, nil
	}
	proto, port, found := strings.Cut(strings.ToLower(s), ":")
	tr := NoTransport
	switch proto {
	case "tcp", "syn":
		tr = TCP
	case "udp":
		tr = UDP
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if !found || tr == NoTransport || err != nil {
		return SeriesOf{}, fmt.Errorf("%q: want %s (PORT from 0 to 65535)", s, SeriesOfNames)
	}
	return SeriesOf{Kind: SeriesAttempts, Transport: tr, Port: uint16(n)}, nil
}

// String returns the value as ParseSeriesOf reads it.
func (s SeriesOf) String() string {
	switch {
	case s.Kind == SeriesAuto:
		return "auto"
	case s.Kind == SeriesRequests:
		return "requests"
	case s.Transport == NoTransport:
		return "attempts"
	}
	return s.Transport.String() + ":" + strconv.Itoa(int(s.Port))
}

// counts reports whether the series counts the attempts of a transport and
// port (with Auto, in case it ends up counting attempts).
func (s SeriesOf) counts(t Transport, port uint16) bool {
	switch s.Kind {
	case SeriesAuto:
		return true
	case SeriesAttempts:
		return s.Transport == NoTransport || s.Transport == t && s.Port == port
	}
	return false
}

// Attempts are the connection attempts of a Report.
type Attempts struct {
	Count               int64        // attempts
	Sources             int64        // distinct sources of them
	FirstSeen, LastSeen time.Time    // the first and last; zero when none
	Ports               []PortResult // per transport and destination port: most attempts first, then by transport and port
}

// PortResult is what was seen of the attempts to one destination port.
type PortResult struct {
	Transport           Transport
	Port                uint16
	Attempts            int64     // attempts (SYNs, or unanswered connections in a Zeek conn.log)
	Sources             int64     // distinct sources of them
	FirstSeen, LastSeen time.Time // the first and last
}

// attAgg aggregates the connection attempts: per port, and per source
// (which ports it tried, in a srcAgg whose part numbers are the ports').
type attAgg struct {
	idx         []uint32 // transport<<16 | port -> index+1 in ports; allocated with the first attempt
	ports       []portAgg
	src         srcAgg
	count       int64
	first, last int64
	probes      ivCounts // the attempts of the series, per interval
}

type portAgg struct {
	transport   Transport
	port        uint16
	inSeries    bool // the series counts its attempts
	attempts    int64
	first, last int64
}

// addAttempt counts one connection attempt at t (Unix ns).
func (a *Analyzer) addAttempt(rec *Record, t int64) error {
	g := &a.att
	if g.idx == nil {
		g.idx = make([]uint32, (int(UDP)+1)<<16)
	}
	tr := rec.Transport
	if tr > UDP {
		tr = NoTransport
	}
	k := int(tr)<<16 | int(rec.DstPort)
	pi := g.idx[k]
	if pi == 0 {
		g.ports = append(g.ports, portAgg{transport: tr, port: rec.DstPort, inSeries: a.ivl > 0 && a.opt.SeriesOf.counts(tr, rec.DstPort), first: t, last: t})
		pi = uint32(len(g.ports))
		g.idx[k] = pi
	}
	p := &g.ports[pi-1]
	p.attempts++
	p.first, p.last = min(p.first, t), max(p.last, t)
	if g.count == 0 {
		g.first, g.last = t, t
	}
	g.count++
	g.first, g.last = min(g.first, t), max(g.last, t)
	tab := g.src.tab
	s := tab.source(rec.Source)
	tab.lines[s]++
	if q := tab.part(s, pi-1); q == nil {
		tab.newPart(s, pi-1, t)
	} else {
		q.lines++
		q.events++
		q.first, q.latest = min(q.first, t), max(q.latest, t)
		q.lastRead = t
	}
	if p.inSeries {
		iv := floorDiv(t, a.ivl)
		if !g.probes.inc(iv, a.maxRows) {
			return a.seriesTooLong(&g.probes, iv)
		}
		tab.interval(s, iv)
	}
	if a.req.tab.size()+tab.size() > a.budget || tab.full() {
		return g.src.spillTable()
	}
	return nil
}

// attempts gathers the attempts' result; with ser (a series of attempts),
// it fills the series' sources and new sources too.
func (a *Analyzer) attempts(ctx context.Context, consume bool, ser *Series) (Attempts, error) {
	g := &a.att
	out := Attempts{Count: g.count}
	if g.count == 0 {
		return out, nil
	}
	out.FirstSeen, out.LastSeen = time.Unix(0, g.first).UTC(), time.Unix(0, g.last).UTC()
	srcs := make([]int64, len(g.ports))
	err := g.src.each(ctx, len(g.ports), consume, func(r *srcRec) {
		out.Sources++
		first, inSeries := int64(0), false
		for i := range r.parts {
			p := &r.parts[i]
			srcs[p.fam]++
			if g.ports[p.fam].inSeries {
				if !inSeries || p.first < first {
					first = p.first
				}
				inSeries = true
			}
		}
		if ser != nil && inSeries {
			slices.Sort(r.ivs)
			r.ivs = slices.Compact(r.ivs)
			for _, iv := range r.ivs {
				ser.sources[iv-ser.start]++
			}
			ser.newSrc[floorDiv(first, a.ivl)-ser.start]++
		}
	})
	if err != nil {
		return Attempts{}, err
	}
	for i, p := range g.ports {
		out.Ports = append(out.Ports, PortResult{Transport: p.transport, Port: p.port, Attempts: p.attempts, Sources: srcs[i],
			FirstSeen: time.Unix(0, p.first).UTC(), LastSeen: time.Unix(0, p.last).UTC()})
	}
	slices.SortFunc(out.Ports, func(x, y PortResult) int {
		return cmp.Or(cmp.Compare(y.Attempts, x.Attempts), cmp.Compare(x.Transport, y.Transport), cmp.Compare(x.Port, y.Port))
	})
	return out, nil
}
