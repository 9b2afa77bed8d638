package reference

import (
	"strings"
	"testing"
	"time"
)

// TestCodeRed2001 reads the embedded file and checks a few of its figures
// and their sources against shared/reference/codered-2001.md.
func TestCodeRed2001(t *testing.T) {
	c, err := CodeRed2001()
	if err != nil {
		t.Fatal(err)
	}
	if c.Scenario != "codered-2001" || c.Telescope != "ucsd-8" {
		t.Errorf("scenario %q, telescope %q", c.Scenario, c.Telescope)
	}
	utc := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	if !c.Dates.CRv2Appears.Equal(utc("2001-07-19T10:00:00Z")) || !c.Dates.SpreadEnds.Equal(utc("2001-07-20T00:00:00Z")) {
		t.Errorf("dates %+v", c.Dates)
	}
	if c.Checks.Seen.Measured != 359104 || c.Source(c.Checks.Seen.Source) != "CAIDA, Moore, Shannon, Brown (IMW 2002)" {
		t.Errorf("CAIDA's count: %+v", c.Checks.Seen)
	}
	if len(c.Checks.Patched) != 2 || c.Checks.Patched[1].Measured != 0.88 || !strings.Contains(c.Source(c.Checks.Patched[1].Source), "InformationWeek") {
		t.Errorf("survey: %+v", c.Checks.Patched)
	}
	if c.Logistic.KLow != 1.7 || c.Logistic.KHigh != 2.6 || !strings.HasPrefix(c.Source(c.Logistic.Source), "Staniford") {
		t.Errorf("logistic: %+v", c.Logistic)
	}
	if w := c.Figures.Restart; !w.From.Equal(utc("2001-07-31T18:00:00Z")) || !strings.Contains(w.Title, "1 August 2001") {
		t.Errorf("restart window: %+v", w)
	}
	// Every check cites a source.
	for _, ch := range append([]Check{c.Checks.Seen, c.Checks.Peak, c.Checks.FirstSeen, c.Checks.Stop}, c.Checks.Patched...) {
		if c.Source(ch.Source) == "" {
			t.Errorf("check %q has no source", ch.Name)
		}
	}
}

// TestParseErrors: a file with an unknown key, a missing key, a source
// not in [sources] or a window that ends before it starts is refused,
// naming the key.
func TestParseErrors(t *testing.T) {
	good := string(codeRedTOML)
	for _, tc := range []struct{ name, in, want string }{
		{"unknown key", strings.Replace(good, "telescope = \"ucsd-8\"", "telescope = \"ucsd-8\"\ncolour = 1", 1), "colour"},
		{"missing key", strings.Replace(good, "telescope = \"ucsd-8\"\n", "", 1), "key telescope is missing"},
		{"missing check key", strings.Replace(good, "label = \"CAIDA: 359,104\"\n", "", 1), "key checks.seen.label is missing"},
		{"missing nested key", strings.Replace(good, "k_high = 2.6\n", "", 1), "key logistic.k_high is missing"},
		{"unknown source", strings.Replace(good, "source = \"nipc\"", "source = \"cert\"", 1), `source "cert" is not in [sources]`},
		{"backwards window", strings.Replace(good, "to = 2001-08-03T00:00:00Z", "to = 2001-07-03T00:00:00Z", 1), "figures.restart: from"},
		{"not TOML", good + "\n[[", "line"},
	} {
		if tc.in == good {
			t.Fatalf("%s: the edit did not apply", tc.name)
		}
		_, err := parseCodeRed([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
