package alert

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"wormwatch/internal/thousands"
	"wormwatch/internal/version"
	"wormwatch/share"
	"wormwatch/store"
)

// TrackingID is the id of the draft CSAF advisory of a transition:
// WORMWATCH-LIVE- and the first 12 hex digits of the SHA-256 of its
// series, time and states, so the same transition always gets the same
// id and another never does.
func TrackingID(t store.Transition) string {
	h := sha256.Sum256([]byte(t.Series + "\n" + t.Time.UTC().Format(time.RFC3339Nano) + "\n" + t.From + "\n" + t.To))
	return "WORMWATCH-LIVE-" + strings.ToUpper(hex.EncodeToString(h[:6]))
}

// csafDraft writes the draft CSAF 2.0 advisory of an alarm transition with
// share's document types and encoder. It is a security incident response
// (category csaf_security_incident_response: the report of an incident
// under way, with no product tree), status draft and version 0: a person
// reviews and publishes it. Its dates are the transition's (data time),
// so the same transition gives the same bytes.
func (p *planned) csafDraft() ([]byte, string, error) {
	id := TrackingID(*p.t)
	date := p.t.Time.UTC().Format(time.RFC3339)
	what := p.what()
	c := &share.CSAF{Document: share.CSAFDocument{
		Category:     "csaf_security_incident_response",
		CSAFVersion:  "2.0",
		Distribution: &share.Distribution{TLP: &share.TLP{Label: strings.ToUpper(p.cfg.TLP), URL: "https://www.first.org/tlp/"}},
		Lang:         "en",
		Notes:        p.csafNotes(what),
		Publisher:    share.Publisher{Category: "other", Name: p.cfg.Publisher, Namespace: p.cfg.Namespace},
		References:   p.csafReferences(),
		Title:        fmt.Sprintf("Worm outbreak alarm (%s): %s on sensor %s", p.ev, what, p.info.Sensor),
		Tracking: share.Tracking{
			CurrentReleaseDate: date,
			Generator:          &share.Generator{Date: date, Engine: share.Engine{Name: "wormwatch", Version: version.Version}},
			ID:                 id,
			InitialReleaseDate: date,
			RevisionHistory:    []share.Revision{{Date: date, Number: "0", Summary: "Draft made by wormwatch serve at the transition " + p.t.From + " -> " + p.t.To + "."}},
			Status:             "draft",
			Version:            "0",
		},
	}}
	c.Vulnerabilities = p.csafVulnerabilities(what)
	var buf bytes.Buffer
	if err := c.Encode(&buf); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), id, nil
}

// what names the series for people.
func (p *planned) what() string {
	switch p.info.Kind {
	case "family":
		if p.fam != nil {
			return p.fam.DisplayName() + " (family " + p.info.Name + ")"
		}
		return "family " + p.info.Name
	case "port":
		if transport, port, ok := portOf(p.info.Name); ok {
			return "connection attempts to " + strings.ToUpper(transport) + " port " + strconv.Itoa(port)
		}
		return "port " + p.info.Name
	}
	return "every counted record"
}

// csafNotes are the draft's notes: what happened, the estimates, the
// forecast, how they were made, and a disclaimer.
func (p *planned) csafNotes(what string) []share.Note {
	notes := []share.Note{{Category: "summary", Title: "Summary", Text: p.sentence(what) +
		". This advisory is a draft made automatically by wormwatch serve from live sensor data: review it before publishing."}}
	if lines := p.estimateLines(); len(lines) > 0 {
		notes = append(notes, share.Note{Category: "details", Title: "Estimates at the transition", Text: strings.Join(lines, "\n")})
	}
	if lines := forecastLines(p.fc); len(lines) > 0 {
		notes = append(notes, share.Note{Category: "details", Title: "Forecast", Text: strings.Join(lines, "\n")})
	}
	notes = append(notes,
		share.Note{Category: "general", Title: "How these figures were made", Text: "wormwatch serve counts, per interval, the distinct sources of series " + p.info.Key +
			" and feeds them to an early-warning Kalman filter (the code of wormwatch forecast), which estimates the growth rate K of the infected population, " +
			"the infected hosts and the vulnerable population N under random constant spread. The alarm rule fires when K stays significantly positive and settled " +
			"while the infected hosts grow. The figures are a model's estimates from what one sensor saw, not measurements of the whole Internet."},
		share.Note{Category: "legal_disclaimer", Title: "Disclaimer", Text: "This draft was generated automatically by wormwatch. " +
			"The estimates and forecast may be wrong. It is provided as is, without warranty of any kind."})
	return notes
}

// estimateLines write the transition's estimates, one sentence each.
func (p *planned) estimateLines() []string {
	e := p.est
	var l []string
	if e.Seen >= 0 {
		l = append(l, fmt.Sprintf("Distinct sources seen by the series since the filter's start: %s.", thousands.Int(e.Seen)))
	}
	if finite(e.Infected) {
		l = append(l, "Infected hosts, filtered estimate: "+thousands.Round(e.Infected)+plusMinus(e.InfectedSD, thousands.Round)+".")
	}
	if finite(e.K) {
		l = append(l, "Growth rate K: "+strconv.FormatFloat(e.K, 'g', 3, 64)+" per hour"+plusMinus(e.KSE, func(x float64) string { return strconv.FormatFloat(x, 'g', 2, 64) })+".")
	}
	if finite(e.N) {
		l = append(l, "Vulnerable population N: "+band(e.N, e.NLow, e.NHigh)+".")
	}
	if e.Fired {
		s := "The alarm rule fired at " + minute(e.AlarmTime)
		if !e.Onset.IsZero() {
			s += ", on growth that began at " + minute(e.Onset)
		}
		l = append(l, s+".")
	}
	return l
}

// band writes a value with its interval: "1,234 (1,000 to 1,500)".
func band(v, lo, hi float64) string {
	s := thousands.Round(v)
	if finite(lo) && finite(hi) {
		s += " (" + thousands.Round(lo) + " to " + thousands.Round(hi) + ")"
	}
	return s
}

func minute(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// forecastJSON is what the draft reads of a forecast (the layout of
// wormwatch forecast --format json, docs/forecast.md).
type forecastJSON struct {
	Estimates struct {
		At       time.Time `json:"at"`
		KPerHour interval  `json:"k_per_hour"`
		N        interval  `json:"n"`
		Infected interval  `json:"infected"`
	} `json:"estimates"`
	Logistic *struct {
		Midpoint time.Time `json:"midpoint"`
		N        interval  `json:"n"`
	} `json:"logistic"`
	Forecast []struct {
		Time     time.Time `json:"time"`
		Infected interval  `json:"infected"`
	} `json:"forecast"`
}

// interval is a value with its interval; null numbers are NaN.
type interval struct{ Value, Low, High *float64 }

func (iv interval) get() (v, lo, hi float64) {
	f := func(x *float64) float64 {
		if x == nil {
			return math.NaN()
		}
		return *x
	}
	return f(iv.Value), f(iv.Low), f(iv.High)
}

// forecastLines write a forecast's figures, one sentence each; none
// without a forecast or when it does not read.
func forecastLines(fc *store.Forecast) []string {
	if fc == nil {
		return nil
	}
	var a forecastJSON
	if json.Unmarshal(fc.Analysis, &a) != nil {
		return nil
	}
	var l []string
	if v, lo, hi := a.Estimates.Infected.get(); finite(v) {
		s := fmt.Sprintf("At %s: %s hosts infected", minute(a.Estimates.At), band(v, lo, hi))
		if v, lo, hi := a.Estimates.N.get(); finite(v) {
			s += ", of a vulnerable population of " + band(v, lo, hi)
		}
		l = append(l, s+".")
	}
	if lg := a.Logistic; lg != nil && !lg.Midpoint.IsZero() {
		l = append(l, "The logistic fit puts the outbreak's midpoint at "+minute(lg.Midpoint)+".")
	}
	if n := len(a.Forecast); n > 0 {
		last := a.Forecast[n-1]
		if v, lo, hi := last.Infected.get(); finite(v) {
			l = append(l, fmt.Sprintf("Forecast for %s: %s hosts infected.", minute(last.Time), band(v, lo, hi)))
		}
	}
	return l
}

// csafReferences are the draft's external references: the family's
// (CVE records, advisories), the port's registration, and the service's
// live forecast of the sensor.
func (p *planned) csafReferences() []share.Reference {
	var refs []share.Reference
	if p.fam != nil {
		for _, r := range p.fam.References {
			u := r.URL
			if u == "" && reCVE.MatchString(r.ID) {
				u = "https://www.cve.org/CVERecord?id=" + r.ID
			}
			if u != "" {
				refs = append(refs, share.Reference{Category: "external", Summary: strings.TrimSpace(r.Source + " " + r.ID), URL: u})
			}
		}
	}
	if _, port, ok := portOf(p.info.Name); ok && p.info.Kind == "port" {
		refs = append(refs, share.Reference{Category: "external", Summary: "IANA service names and port numbers: port " + strconv.Itoa(port),
			URL: "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xhtml?search=" + strconv.Itoa(port)})
	}
	if u, err := url.Parse(p.cfg.BaseURL); err == nil && u.IsAbs() {
		refs = append(refs, share.Reference{Category: "external", Summary: "Live forecast of sensor " + p.info.Sensor + " (wormwatch serve)",
			URL: p.cfg.link("/api/v1/forecast?sensor=" + url.QueryEscape(p.info.Sensor))})
	}
	return refs
}

var reCVE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// csafVulnerabilities name the CVEs of the family's references: the holes
// the worm whose requests raised the alarm is known to use.
func (p *planned) csafVulnerabilities(what string) []share.CSAFVulnerability {
	if p.fam == nil {
		return nil
	}
	var out []share.CSAFVulnerability
	for _, r := range p.fam.References {
		if strings.EqualFold(r.Source, "cve") && reCVE.MatchString(r.ID) {
			out = append(out, share.CSAFVulnerability{CVE: r.ID, Notes: []share.Note{{Category: "description", Title: "Exploited",
				Text: r.ID + " is exploited by " + what + ", whose requests raised this alarm (the family's signature references it)."}}})
		}
	}
	return out
}
