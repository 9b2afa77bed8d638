package detect

import (
	"regexp"
	"strings"

	"wormwatch/share"
)

// Pattern returns the STIX 2.1 pattern of the family's indicator: its
// stix_pattern when given, otherwise one derived from the match rules.
//
// A derived pattern has, per rule, an observation on url:value (what
// proxies and URL feeds hold) and one on network-traffic's HTTP request
// (what web-server logs hold), joined with OR, and the rules' observations
// are joined with OR too. Conditions on target, path and query become
// MATCHES comparisons (PCRE; the literals quoted, unanchored where the field
// may sit anywhere); method and protocol literals become comparisons of the
// request (lower case, as STIX writes them). Status, lengths, user agent
// and referer cannot be said there and are left out, so a derived pattern
// may match more than the rule; give stix_pattern to be exact. It returns
// "" when no rule yields a comparison.
func (f *Family) Pattern() string {
	if f.STIXPattern != "" {
		return f.STIXPattern
	}
	var obs []string
	for _, r := range f.Match {
		url, req := r.patterns()
		if url != "" {
			obs = append(obs, "["+url+"]")
		}
		if req != "" {
			obs = append(obs, "["+req+"]")
		}
	}
	return strings.Join(obs, " OR ")
}

const httpRequest = "network-traffic:extensions.'http-request-ext'."

// patterns returns a rule's comparison expressions on url:value and on the
// HTTP request, without brackets; either may be empty.
func (r *Rule) patterns() (url, req string) {
	var uc, rc []string
	add := func(re string, nocase bool, urlBegin, reqBegin string) {
		if nocase {
			re = "(?i)" + re
		}
		uc = append(uc, "url:value MATCHES "+share.QuotePattern(urlBegin+re))
		rc = append(rc, httpRequest+"request_value MATCHES "+share.QuotePattern(reqBegin+re))
	}
	for _, fc := range []FieldCond{{FieldTarget, r.Target}, {FieldPath, r.Path}, {FieldQuery, r.Query}} {
		c := fc.Cond
		// Where the field starts in a URL (scheme://host/path?query#fragment)
		// and in a request target (/path?query), and where it ends.
		urlBegin, reqBegin, end := `^[^:/?#]+://[^/?#]*`, `^`, `$`
		switch fc.Field {
		case FieldQuery:
			urlBegin, reqBegin = `\?`, `\?`
		case FieldPath:
			end = `(?:\?|#|$)`
		}
		if len(c.Equals) > 0 {
			add(alt(c.Equals)+end, c.NoCase, urlBegin, reqBegin)
		}
		if len(c.Prefix) > 0 {
			add(alt(c.Prefix), c.NoCase, urlBegin, reqBegin)
		}
		if len(c.Suffix) > 0 {
			add(alt(c.Suffix)+end, c.NoCase, "", "")
		}
		for _, s := range c.Contains {
			add(regexp.QuoteMeta(s), c.NoCase, "", "")
		}
		if len(c.ContainsAny) > 0 {
			add(alt(c.ContainsAny), c.NoCase, "", "")
		}
		if c.Regexp != "" {
			add(c.Regexp, c.NoCase, "", "")
		}
	}
	if len(r.Method.Equals) > 0 {
		rc = append(rc, httpRequest+"request_method IN ("+stixList(r.Method.Equals)+")")
	}
	if len(r.Protocol.Equals) > 0 {
		rc = append(rc, httpRequest+"request_version IN ("+stixList(r.Protocol.Equals)+")")
	}
	return strings.Join(uc, " AND "), strings.Join(rc, " AND ")
}

// alt returns a regexp matching any of the literals.
func alt(lits []string) string {
	q := make([]string, len(lits))
	for i, s := range lits {
		q[i] = regexp.QuoteMeta(s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "(?:" + strings.Join(q, "|") + ")"
}

// stixList quotes the strings in lower case, as STIX writes HTTP methods and
// versions, for an IN (...) set.
func stixList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = share.QuotePattern(strings.ToLower(s))
	}
	return strings.Join(q, ", ")
}
