package share

import (
	"strings"
	"testing"
)

func TestCheckPattern(t *testing.T) {
	t.Parallel()
	// Patterns in the shapes of the STIX 2.1 patterning specification's
	// examples, which the grammar accepts.
	good := []string{
		"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
		"[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
		"([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
		"[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
		"[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
		"[(file:name = 'pdf.exe' OR file:size = 371712) AND file:created = t'2014-01-13T07:03:17Z']",
		"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
		"[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
		"[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
		"[ipv4-addr:value ISSUBSET '198.51.100.0/24'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z'",
		"[file:size IN (1024, 2048, 4096)] AND [process:name NOT = 'x']",
		"[x-custom:prop[-1] != 'a\\'b'] /* comment */",
		"[network-traffic:extensions.'http-request-ext'.request_value MATCHES '/default\\\\.ida\\\\?X{224}']",
		"[user-account:is_privileged = true AND EXISTS user-account:user_id]",
	}
	for _, p := range good {
		if _, err := checkPattern(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	bad := []struct{ pattern, want string }{
		{"file:size = 1280", "observation expression"},
		{"[file:size = ]", "needs a literal"},
		{"[file:hashes.MD5 = cead3f77]", "needs a literal"},
		{"[file.size = 1280]", "expected \":\""},
		{"[file:name MATCHES /.*\\.dll/]", "unexpected character"},
		{"[file:name = 'a\\.dll']", "invalid escape"},
		{"[file:name = 'open]", "unterminated string"},
		{"[foo:bar = 1] within 2 SECONDS", "unexpected text after the pattern"},
		{"[foo:bar = 1] WITHIN -5 SECONDS", "positive number"},
		{"[network-traffic:extensions.http-request-ext.request_value = 'x']", "no hyphen"},
		{"[foo:bar =? 'x']", "unexpected character"},
		{"[foo:bar = 'x'] AND", "observation expression"},
		{"[foo:bar = 'x']]", "unexpected text"},
		{"", "observation expression"},
	}
	for _, c := range bad {
		_, err := checkPattern(c.pattern)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.pattern, err, c.want)
		}
	}
}

// TestQuotePattern checks that quoted strings read back as written,
// whatever they hold.
func TestQuotePattern(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `/default\.ida\?X{224}`, `it's`, `\`, `\'`, `''\\`, "multi\nline", "ünïcode ✓"} {
		checkQuoteRoundTrip(t, s)
	}
}

func checkQuoteRoundTrip(t *testing.T, s string) {
	t.Helper()
	p := "[url:value MATCHES " + QuotePattern(s) + "]"
	cmps, err := checkPattern(p)
	if err != nil {
		t.Fatalf("%q: %v", p, err)
	}
	if len(cmps) != 1 || cmps[0].Value != s || cmps[0].Path != "url:value" || cmps[0].Op != "MATCHES" {
		t.Fatalf("%q read back as %+v, want %q", p, cmps, s)
	}
}

// FuzzQuotePattern: any string, quoted, must parse back to itself.
func FuzzQuotePattern(f *testing.F) {
	for _, s := range []string{"", `a\b`, `'`, `\'`, `/default\.ida\?N{224}`} {
		f.Add(s)
	}
	f.Fuzz(checkQuoteRoundTrip)
}

// FuzzCheckPattern: the checker must never panic, whatever the input.
func FuzzCheckPattern(f *testing.F) {
	f.Add("[url:value MATCHES '/default\\\\.ida'] OR [network-traffic:extensions.'http-request-ext'.request_value MATCHES 'x']")
	f.Add("([a:b = 1] FOLLOWEDBY [c:d != 'x']) WITHIN 5 SECONDS REPEATS 2 TIMES")
	f.Add("[a:b[*].c IN ('x', 1, 2.5, true)] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'")
	f.Add("[a:b = h'ff' AND a:c = b'AAAA'] // c")
	f.Fuzz(func(t *testing.T, p string) {
		cmps, err := checkPattern(p)
		if err == nil && len(cmps) == 0 {
			t.Fatalf("%q parsed with no comparison", p)
		}
	})
}
