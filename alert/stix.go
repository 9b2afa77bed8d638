package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"wormwatch/internal/thousands"
	"wormwatch/share"
)

// stixBundle writes the STIX 2.1 bundle of the transition with share's
// writer: wormwatch's identity, the TLP marking, the series' indicator
// (a family's pattern; for a port, its connection attempts) and, when the
// series has seen sources, a sighting of it from the alarm's onset to the
// transition with the distinct sources as its count. A series of every
// record (kind all) or a family without a pattern has no indicator to
// give: ok is false.
func (p *planned) stixBundle() (b []byte, id string, ok bool, err error) {
	f := share.Finding{Family: p.info.Kind + "/" + p.info.Name}
	switch {
	case p.info.Kind == "family" && p.fam != nil && p.fam.Pattern() != "":
		f.Name, f.Description, f.Pattern = p.fam.DisplayName(), oneLine(p.fam.Description), p.fam.Pattern()
		for _, r := range p.fam.References {
			f.References = append(f.References, r.ShareText())
		}
	case p.info.Kind == "port":
		transport, port, okPort := portOf(p.info.Name)
		if !okPort {
			return nil, "", false, nil
		}
		f.Name = strings.ToUpper(transport) + " port " + strconv.Itoa(port) + " connection"
		f.Description = "Connection attempts (" + strings.ToUpper(transport) + " SYNs) to port " + strconv.Itoa(port) + ", as a network telescope counts them"
		f.Pattern = fmt.Sprintf("[network-traffic:dst_port = %d AND network-traffic:protocols[*] = %s]", port, share.QuotePattern(transport))
	default:
		return nil, "", false, nil
	}
	if p.est.Seen > 0 {
		f.Count = p.est.Seen
		f.FirstSeen, f.LastSeen = p.t.Time, p.t.Time
		if !p.est.Onset.IsZero() && p.est.Onset.Before(p.t.Time) {
			f.FirstSeen = p.est.Onset
		}
		f.SightingDescription = p.sentence(f.Name)
	}
	var buf bytes.Buffer
	if err := share.WriteSTIX(&buf, []share.Finding{f}, p.cfg.TLP); err != nil {
		return nil, "", false, err
	}
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(buf.Bytes(), &head); err != nil {
		return nil, "", false, err
	}
	return buf.Bytes(), head.ID, true, nil
}

// portOf reads a port series' name, "tcp/80".
func portOf(name string) (transport string, port int, ok bool) {
	transport, num, found := strings.Cut(name, "/")
	port, err := strconv.Atoi(num)
	if !found || err != nil || port < 0 || port > 65535 || (transport != "tcp" && transport != "udp") {
		return "", 0, false
	}
	return transport, port, true
}

// sentence says what happened, for people: "Code Red II on sensor tel:
// alarm opened at 2001-07-19 13:00 UTC; 345 distinct sources seen; about
// 5,600 hosts infected (± 300); growth rate K 1.21 per hour (± 0.1)".
func (p *planned) sentence(what string) string {
	verb := map[string]string{Opened: "alarm opened", Changed: "alarm " + p.t.From + " -> " + p.t.To, Closed: "alarm closed", Watching: p.t.From + " -> " + p.t.To}[p.ev]
	parts := []string{fmt.Sprintf("%s on sensor %s: %s at %s", what, p.info.Sensor, verb, p.t.Time.UTC().Format("2006-01-02 15:04 UTC"))}
	e := p.est
	if e.Seen >= 0 {
		parts = append(parts, thousands.Int(e.Seen)+" distinct sources seen")
	}
	if finite(e.Infected) {
		parts = append(parts, "about "+thousands.Round(e.Infected)+" hosts infected"+plusMinus(e.InfectedSD, thousands.Round))
	}
	if finite(e.K) {
		parts = append(parts, "growth rate K "+strconv.FormatFloat(e.K, 'g', 3, 64)+" per hour"+plusMinus(e.KSE, func(x float64) string { return strconv.FormatFloat(x, 'g', 2, 64) }))
	}
	return strings.Join(parts, "; ")
}

// plusMinus writes " (± x)", or "" for an error that is not known.
func plusMinus(x float64, format func(float64) string) string {
	if !finite(x) {
		return ""
	}
	return " (± " + format(x) + ")"
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// oneLine joins the lines of a text with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
