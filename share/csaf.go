package share

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"wormwatch/internal/thousands"
)

// AdvisoryOptions are the choices of whoever publishes an advisory.
type AdvisoryOptions struct {
	// TLP is the distribution label: white (the default: an advisory is meant
	// to be shared), green, amber or red.
	TLP string
	// Date is the release date; zero means the end of the data, so that the
	// same folder always gives the same document.
	Date time.Time
	// PublisherName and PublisherNamespace identify the publisher; defaults
	// "wormwatch" and "https://wormwatch.invalid" (a reserved domain, RFC
	// 2606: set your own namespace to publish).
	PublisherName, PublisherNamespace string
	// Version is the wormwatch version that writes the document (the CSAF
	// generator).
	Version string
}

// Facts about the vulnerability that Code Red used, with their sources
// (shared/reference/codered-2001.md; Microsoft Security Bulletin MS01-033
// and Knowledge Base article 300972).
const (
	cveID        = "CVE-2001-0500"
	cweID        = "CWE-120"
	cweName      = "Buffer Copy without Checking Size of Input ('Classic Buffer Overflow')"
	bulletinURL  = "https://learn.microsoft.com/en-us/security-updates/securitybulletins/2001/ms01-033"
	bulletinName = "Microsoft Security Bulletin MS01-033: Unchecked Buffer in Index Server ISAPI Extension Could Enable Web Server Compromise"
	cveURL       = "https://www.cve.org/CVERecord?id=CVE-2001-0500"
	nvdURL       = "https://nvd.nist.gov/vuln/detail/CVE-2001-0500"
	productIIS4  = "IIS-4.0"
	productIIS5  = "IIS-5.0"
)

var (
	patchDate = time.Date(2001, 6, 18, 0, 0, 0, 0, time.UTC)
	products  = []string{productIIS4, productIIS5}
)

// csafTime formats a CSAF date-time (RFC 3339, UTC).
func csafTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

var reNotID = regexp.MustCompile(`[^A-Z0-9-]+`)

// TrackingID is the advisory's id: WORMWATCH-<scenario>-<first 12 hex digits
// of the input's SHA-256>, so a different input never reuses an id.
func (o *Outlook) TrackingID() string {
	sc := strings.Trim(reNotID.ReplaceAllString(strings.ToUpper(o.Scenario), "-"), "-")
	if sc == "" {
		sc = "SCENARIO"
	}
	return "WORMWATCH-" + sc + "-" + strings.ToUpper(o.Digest[:12])
}

var reFileChars = regexp.MustCompile(`[^+\-a-z0-9]+`)

// CSAFFileName is the file name CSAF 2.0 (section 5.1) prescribes for a
// tracking id: lower case, every run of other characters than +, - and a-z
// 0-9 replaced by _, and .json.
func CSAFFileName(trackingID string) string {
	return reFileChars.ReplaceAllString(strings.ToLower(trackingID), "_") + ".json"
}

// count writes an estimate of a count: the value, and for a replay its band.
func (e Estimate) count() string {
	if !e.Spread || (thousands.Round(e.Low) == thousands.Round(e.Value) && thousands.Round(e.High) == thousands.Round(e.Value)) {
		return thousands.Round(e.Value)
	}
	return fmt.Sprintf("%s (%s to %s)", thousands.Round(e.Value), thousands.Round(e.Low), thousands.Round(e.High))
}

// hours writes a delay for people: "2 hours", "90 minutes".
func hours(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		if d == time.Hour {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// rate writes an estimate of a rate, which may be below one.
func (e Estimate) rate() string {
	if e.Value >= 100 {
		return e.count()
	}
	if !e.Spread || (num(e.Low) == num(e.Value) && num(e.High) == num(e.Value)) {
		return num(e.Value)
	}
	return fmt.Sprintf("%s (%s to %s)", num(e.Value), num(e.Low), num(e.High))
}

func when(t time.Time) string { return t.UTC().Format("2 January 2006 15:04 UTC") }

func day(t time.Time) string { return t.UTC().Format("2 January 2006") }

// source says where the figures come from, for people.
func (o *Outlook) source() string {
	if o.Kind == "replay" {
		return fmt.Sprintf("the replay of scenario %s over %d seeds (medians, with the 5%% and 95%% quantiles over seeds in brackets)", o.Scenario, len(o.Seeds))
	}
	return fmt.Sprintf("one run of scenario %s (seed %d)", o.Scenario, o.Seeds[0])
}

// forecastLines are the numbers of the advisory, one sentence each.
func (o *Outlook) forecastLines() []string {
	l := []string{
		fmt.Sprintf("Hosts infected at the peak: %s, on %s.", o.PeakInfected.count(), when(o.PeakInfected.At)),
		fmt.Sprintf("Fastest spread: %s new infections per minute, on %s.", o.PeakNewPerMin.rate(), when(o.PeakNewPerMin.At)),
		fmt.Sprintf("Hosts infected in all by %s: %s, in a modelled population of %s IIS servers.", when(o.End), o.EverInfected.count(), thousands.Round(o.Population.Value)),
		fmt.Sprintf("At %s: %s hosts infected (%s of them dormant), %s still vulnerable, %s patched.",
			when(o.End), o.EndInfected.count(), o.EndDormant.count(), o.EndSusceptible.count(), o.EndPatched.count()),
	}
	if r := o.LastRestart; r != nil {
		s := fmt.Sprintf("Last restart seen: on %s, %s dormant hosts woke (scanning hosts outnumbered dormant ones again from %s), with %s vulnerable hosts left to infect",
			day(r.Time), r.Waking.count(), when(r.Time), r.Susceptible.count())
		if r.FirstDay != nil {
			s += fmt.Sprintf("; %s infections followed in the next 24 hours", thousands.Round(r.FirstDay.Value))
			if o.Kind == "replay" {
				s += " (sum of the per-minute medians)"
			}
		}
		l = append(l, s+".")
	}
	if r := o.NextRestart; r != nil {
		s := fmt.Sprintf("Expected restart: from %s, when up to %s infected hosts wake and scan again, with %s vulnerable hosts to infect",
			when(r.Time), r.Waking.count(), r.Susceptible.count())
		if r.WakeMedian > 0 {
			s += fmt.Sprintf("; in the model half of them are awake %s after midnight", hours(r.WakeMedian))
		}
		l = append(l, s+". "+o.RestartNote)
	} else {
		l = append(l, o.RestartNote)
	}
	for _, sv := range o.Sensors {
		size := ""
		if sv.Size > 0 {
			size = fmt.Sprintf(" (%s addresses)", thousands.Round(sv.Size))
		}
		l = append(l, fmt.Sprintf("Telescope %s%s: %s distinct infected sources seen by %s; at most %s new sources per minute, on %s.",
			sv.Name, size, sv.Sources.count(), when(o.End), sv.PeakNewPM.rate(), when(sv.PeakNewPM.At)))
	}
	return l
}

// methodLines say how the figures were made and how far to trust them.
func (o *Outlook) methodLines(version string) []string {
	l := []string{fmt.Sprintf("These figures come from %s, simulated by wormwatch %s from %s to %s (%s), and written by wormwatch %s. "+
		"They are a model's forecast, not measurements. Input files: %s (SHA-256 %s).",
		o.source(), o.Version, when(o.Start), when(o.End), o.Description, version, strings.Join(o.Files, ", "), o.Digest)}
	if f := o.Logistic; f != nil {
		l = append(l, fmt.Sprintf("Random-constant-spread fit to %s on 19 July: K = %.2f per hour (%.2f to %.2f over seeds); published range %.1f to %.1f (%s).",
			f.Series, f.KPerHour[1], f.KPerHour[0], f.KPerHour[2], f.PublishedKLow, f.PublishedKHigh, f.Source))
	}
	if len(o.Checks) > 0 {
		inside := 0
		for _, c := range o.Checks {
			if c.Inside {
				inside++
			}
		}
		l = append(l, fmt.Sprintf("Against the measurements of 2001, %d of %d published figures fall within the simulation's band:", inside, len(o.Checks)))
		for _, c := range o.Checks {
			verdict := "outside"
			if c.Inside {
				verdict = "inside"
			}
			l = append(l, fmt.Sprintf("%s: published %s, simulated %s (%s to %s), %s (%s).",
				c.Name, num(c.Measured), num(c.P50), num(c.P05), num(c.P95), verdict, c.Source))
		}
	}
	return l
}

// num writes a figure of any size: a count with separators, a share or an
// hour with three significant digits.
func num(x float64) string {
	if math.Abs(x) >= 100 {
		return thousands.Round(x)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func (o *Outlook) title() string {
	return fmt.Sprintf("Code Red worm in Microsoft IIS 4.0 and 5.0 (%s, MS01-033): outbreak forecast from %s %s", cveID, o.Kind, o.Scenario)
}

func (o *Outlook) summary() string {
	s := fmt.Sprintf("The Code Red worm spreads through an unchecked buffer in the Index Server ISAPI extension (idq.dll) of Microsoft IIS 4.0 and 5.0 (%s, Microsoft bulletin MS01-033, patch published on 18 June 2001). "+
		"Forecast from %s: %s hosts infected at the peak, %s infected in all by %s.",
		cveID, o.source(), o.PeakInfected.count(), o.EverInfected.count(), day(o.End))
	if r := o.NextRestart; r != nil {
		s += fmt.Sprintf(" Expect the worm to start again on %s.", when(r.Time))
	}
	return s + " Patch every IIS server now, then reboot it."
}

// Advisory builds the CSAF 2.0 security advisory for an outlook.
func Advisory(o *Outlook, opt AdvisoryOptions) (*CSAF, error) {
	tlp, err := ParseTLP(opt.TLP, "white")
	if err != nil {
		return nil, err
	}
	opt = opt.withDefaults(o)
	refs := []Reference{
		{Category: "external", Summary: bulletinName, URL: bulletinURL},
		{Category: "external", Summary: cveID + " in the CVE list", URL: cveURL},
		{Category: "external", Summary: cveID + " in the US National Vulnerability Database", URL: nvdURL},
	}
	return &CSAF{
		Document:        advisoryDocument(o, opt, tlp, refs),
		ProductTree:     productTree(),
		Vulnerabilities: []CSAFVulnerability{vulnerability(o, refs)},
	}, nil
}

// withDefaults fills the options left empty: the release date is the end
// of the data, the publisher wormwatch at wormwatch.invalid.
func (opt AdvisoryOptions) withDefaults(o *Outlook) AdvisoryOptions {
	if opt.Date.IsZero() {
		opt.Date = o.End
	}
	if opt.PublisherName == "" {
		opt.PublisherName = "wormwatch"
	}
	if opt.PublisherNamespace == "" {
		opt.PublisherNamespace = "https://wormwatch.invalid"
	}
	if opt.Version == "" {
		opt.Version = "unknown"
	}
	return opt
}

// advisoryDocument is the document part of the advisory: notes, publisher,
// tracking.
func advisoryDocument(o *Outlook, opt AdvisoryOptions, tlp string, refs []Reference) CSAFDocument {
	d := csafTime(opt.Date)
	pubName, pubNS, version := opt.PublisherName, opt.PublisherNamespace, opt.Version
	return CSAFDocument{
		Category:     "csaf_security_advisory",
		CSAFVersion:  "2.0",
		Distribution: &Distribution{TLP: &TLP{Label: strings.ToUpper(tlp), URL: "https://www.first.org/tlp/"}},
		Lang:         "en",
		Notes: []Note{
			{Category: "summary", Title: "Summary", Text: o.summary()},
			{Category: "details", Title: "Outbreak forecast", Text: strings.Join(o.forecastLines(), "\n")},
			{Category: "general", Title: "How this forecast was made", Text: strings.Join(o.methodLines(version), "\n")},
			{Category: "legal_disclaimer", Title: "Disclaimer", Text: "This advisory was generated automatically by wormwatch from a simulation. " +
				"The forecast is a model's output and may be wrong; the facts about the vulnerability and its fix come from Microsoft's bulletin MS01-033. " +
				"It is provided as is, without warranty of any kind."},
		},
		Publisher:  Publisher{Category: "other", Name: pubName, Namespace: pubNS},
		References: refs,
		Title:      o.title(),
		Tracking: Tracking{
			CurrentReleaseDate: d,
			Generator:          &Generator{Date: d, Engine: Engine{Name: "wormwatch", Version: version}},
			ID:                 o.TrackingID(),
			InitialReleaseDate: d,
			RevisionHistory:    []Revision{{Date: d, Number: "1", Summary: "First version: forecast from " + o.Kind + " " + o.Scenario + "."}},
			// Interim: a forecast during an outbreak is expected to be
			// superseded as new data arrive.
			Status:  "interim",
			Version: "1",
		},
	}
}

// productTree lists the affected products: IIS 4.0 and 5.0 with the
// indexing service.
func productTree() *ProductTree {
	helper := func(v string) *ProductIdentificationHelper {
		return &ProductIdentificationHelper{CPE: "cpe:2.3:a:microsoft:internet_information_server:" + v + ":*:*:*:*:*:*:*"}
	}
	return &ProductTree{Branches: []Branch{{
		Category: "vendor", Name: "Microsoft",
		Branches: []Branch{{
			Category: "product_name", Name: "Internet Information Server",
			Branches: []Branch{
				{Category: "product_version", Name: "4.0", Product: &FullProductName{
					Name:      "Microsoft Internet Information Server 4.0 on Windows NT 4.0 with Index Server 2.0 (idq.dll, .ida and .idq script mappings)",
					ProductID: productIIS4, ProductIdentificationHelper: helper("4.0"),
				}},
				{Category: "product_version", Name: "5.0", Product: &FullProductName{
					Name:      "Microsoft Internet Information Services 5.0 on Windows 2000 with the Indexing Service (idq.dll, .ida and .idq script mappings)",
					ProductID: productIIS5, ProductIdentificationHelper: helper("5.0"),
				}},
			},
		}},
	}}}
}

// vulnerability describes CVE-2001-0500, its fix and the outbreak.
func vulnerability(o *Outlook, refs []Reference) CSAFVulnerability {
	return CSAFVulnerability{
		CVE: cveID,
		CWE: &CWE{ID: cweID, Name: cweName},
		Notes: []Note{
			{Category: "description", Title: "Vulnerability", Text: "An unchecked buffer in idq.dll, the ISAPI extension that serves .ida and .idq requests for Index Server 2.0 (IIS 4.0) " +
				"and the Indexing Service (IIS 5.0), lets a remote attacker who sends one crafted HTTP request run code of their choice on the web server. " +
				"idq.dll runs in the System context, so the attacker gains complete control of the server. The overflow happens before any indexing function is called " +
				"(Microsoft bulletin MS01-033, Knowledge Base article 300972)."},
			{Category: "summary", Title: "Code Red", Text: "The Code Red worms send \"GET /default.ida?\" followed by a long padding to TCP port 80 of addresses they choose at random, " +
				"without checking what runs there; an unpatched IIS server that receives it is infected. The worm lives in memory only: a reboot removes it, " +
				"but an unpatched server can be infected again. " + o.summary()},
			{Category: "details", Title: "Outbreak forecast", Text: strings.Join(o.forecastLines(), "\n")},
		},
		ProductStatus: &ProductStatus{KnownAffected: products},
		References:    refs,
		ReleaseDate:   csafTime(patchDate),
		Remediations: []Remediation{
			{Category: "vendor_fix", Date: csafTime(patchDate), ProductIDs: products, URL: bulletinURL,
				Details: "Install the patch of Microsoft Security Bulletin MS01-033 (published 18 June 2001), then reboot the server to remove a worm already in memory."},
			{Category: "workaround", ProductIDs: products,
				Details: "Where the patch cannot be installed at once and Index Server queries are not used, remove the .ida and .idq script mappings in the Internet Services Manager, so that no request reaches idq.dll."},
			{Category: "mitigation", ProductIDs: products,
				Details: "Filter inbound TCP port 80 to servers that need not be reached from outside, and drop HTTP requests for .ida or .idq paths at proxies and intrusion-prevention systems (Snort rules 1243 and 1244 match them)."},
		},
		Threats: []Threat{
			{Category: "impact", ProductIDs: products, Details: "Remote code execution in the System context: complete control of the server by an unauthenticated attacker."},
			{Category: "exploit_status", ProductIDs: products, Details: "Exploited in the wild by the Code Red worms: Code Red I from 12-13 July 2001, Code Red v2 from 19 July 2001, Code Red II from 4 August 2001."},
		},
		Title: "Unchecked buffer in the Index Server ISAPI extension (idq.dll)",
	}
}
