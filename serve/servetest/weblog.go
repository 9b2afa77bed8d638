package servetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// WebLogStart is when WebLog's log starts: 18 September 2001, the day
// Nimda appeared, with Code Red I and II still probing.
var WebLogStart = time.Date(2001, 9, 18, 0, 0, 0, 0, time.UTC)

// CodeRed2Request is the request line of Code Red II (224 X), as Apache
// logged it.
var CodeRed2Request = "GET /default.ida?" + strings.Repeat("X", 224) +
	"%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a HTTP/1.0"

// nimdaTargets are the 16 requests of a Nimda burst, as Apache logged them.
var nimdaTargets = []string{
	"/scripts/root.exe?/c+dir", "/MSADC/root.exe?/c+dir", "/c/winnt/system32/cmd.exe?/c+dir", "/d/winnt/system32/cmd.exe?/c+dir",
	"/scripts/..%255c../winnt/system32/cmd.exe?/c+dir", "/_vti_bin/..%255c../..%255c../..%255c../winnt/system32/cmd.exe?/c+dir",
	"/_mem_bin/..%255c../..%255c../..%255c../winnt/system32/cmd.exe?/c+dir",
	"/msadc/..%255c../..%255c../..%255c/..%c1%1c../..%c1%1c../..%c1%1c../winnt/system32/cmd.exe?/c+dir",
	"/scripts/..%c1%1c../winnt/system32/cmd.exe?/c+dir", "/scripts/..%c0%2f../winnt/system32/cmd.exe?/c+dir",
	"/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir", "/scripts/..%c1%9c../winnt/system32/cmd.exe?/c+dir",
	"/scripts/..%%35%63../winnt/system32/cmd.exe?/c+dir", "/scripts/..%%35c../winnt/system32/cmd.exe?/c+dir",
	"/scripts/..%25%35%63../winnt/system32/cmd.exe?/c+dir", "/scripts/..%252f../winnt/system32/cmd.exe?/c+dir",
}

// userAgents are browsers and robots of 2001, the first the most common.
var userAgents = []string{
	"Mozilla/4.0 (compatible; MSIE 5.5; Windows 98; Win 9x 4.90)",
	"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0)",
	"Mozilla/4.0 (compatible; MSIE 5.01; Windows NT 5.0)",
	"Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 4.0)",
	"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
	"Mozilla/4.0 (compatible; MSIE 5.0; Windows 98; DigExt)",
	"Mozilla/4.78 [en] (Windows NT 5.0; U)",
	"Mozilla/4.77 [en] (X11; U; Linux 2.4.7-10 i686)",
	"Mozilla/5.0 (Windows; U; Windows NT 5.0; en-US; rv:0.9.4) Gecko/20011019 Netscape6/6.2",
	"Mozilla/5.0 (X11; U; Linux i686; en-US; rv:0.9.4) Gecko/20010913",
	"Mozilla/4.0 (compatible; MSIE 5.0; Mac_PowerPC)",
	"Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en-us) AppleWebKit/48 (like Gecko) Safari/48",
	"Opera/5.12 (Windows 98; U)  [en]",
	"Lynx/2.8.4rel.1 libwww-FM/2.14 SSL-MM/1.4.1 OpenSSL/0.9.6b",
	"Wget/1.7",
	"Googlebot/2.1 (+http://www.googlebot.com/bot.html)",
	"Scooter/3.2",
	"Mozilla/3.0 (Slurp/si; slurp@inktomi.com; http://www.inktomi.com/slurp.html)",
	"ia_archiver",
	"FAST-WebCrawler/3.3 (crawler@fast.no; http://fast.no/support.php?c=faqs/crawler)",
}

// words make the site's page names and the searches.
var words = strings.Fields(`network security advisory patch server windows linux apache iis worm virus
	firewall router update release notes download support contact about products services pricing
	manual install guide faq forum news archive report summary index mail list password backup
	storage cluster performance tuning kernel driver printer scanner modem wireless laptop desktop`)

// webLine is one line of WebLog before it is written.
type webLine struct {
	t    time.Time
	text string
}

// WebLog returns an Apache combined log of about n lines of an ordinary
// web server on WebLogStart, in time order: most lines are requests of a
// few thousand clients (each with its browser, reading pages of the site
// with the images, style sheets and scripts they load, the popular pages
// most often, and searching), and about 5% are worm probes from many more
// sources: Code Red I and II (one or a few requests each) and Nimda (bursts
// of 16 requests). seed draws everything.
func WebLog(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x7765626c6f67))
	site := newSite(rng)
	clients := make([]webClient, 3000)
	for i := range clients {
		clients[i] = webClient{addr: publicAddr(rng), ua: userAgents[zipf(rng, len(userAgents))]}
	}
	worms := make([]string, 20000)
	for i := range worms {
		worms[i] = publicAddr(rng)
	}
	day := int64(24 * time.Hour)
	var lines []webLine
	for len(lines) < n {
		t := WebLogStart.Add(time.Duration(rng.Int64N(day)))
		switch r := rng.IntN(1000); {
		case r < 6: // a Nimda burst: 16 lines within a few seconds
			src := worms[rng.IntN(len(worms)/20)] // fewer Nimda hosts, some seen again
			for i, target := range nimdaTargets {
				lines = append(lines, webLine{t.Add(time.Duration(i) * 150 * time.Millisecond), worm(src, t, "GET "+target+" HTTP/1.0")})
			}
		case r < 80: // a Code Red probe
			req := CodeRed2Request
			if rng.IntN(3) == 0 {
				req = CodeRedRequest
			}
			lines = append(lines, webLine{t, worm(worms[rng.IntN(len(worms))], t, req)})
		default: // a visit: a page and what it loads
			c := &clients[zipf(rng, len(clients))]
			lines = site.visit(rng, c, t, lines)
		}
	}
	slices.SortStableFunc(lines, func(a, b webLine) int { return a.t.Compare(b.t) })
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.text)
	}
	return []byte(b.String())
}

// webClient is a reader of the site.
type webClient struct {
	addr, ua string
	page     string // the page read last: the referer of the next
}

// site is the web server's pages and the files they load.
type site struct {
	pages  []string
	assets [][]string // per page, the files it loads
}

// newSite makes a site of 2,000 pages.
func newSite(rng *rand.Rand) *site {
	s := &site{pages: []string{"/", "/index.html", "/news/", "/products/", "/support/", "/contact.html"}}
	for len(s.pages) < 2000 {
		w1, w2 := words[rng.IntN(len(words))], words[rng.IntN(len(words))]
		switch rng.IntN(4) {
		case 0:
			s.pages = append(s.pages, fmt.Sprintf("/news/2001/%02d/%s-%s.html", 1+rng.IntN(9), w1, w2))
		case 1:
			s.pages = append(s.pages, fmt.Sprintf("/products/item.php?id=%d&lang=en", 1000+rng.IntN(9000)))
		case 2:
			s.pages = append(s.pages, fmt.Sprintf("/support/%s/%s.html", w1, w2))
		default:
			s.pages = append(s.pages, fmt.Sprintf("/docs/manual/%s/chapter%d.html", w1, 1+rng.IntN(20)))
		}
	}
	common := []string{"/css/site.css", "/js/menu.js", "/images/logo.gif", "/images/spacer.gif"}
	for range s.pages {
		a := slices.Clone(common[:1+rng.IntN(len(common))])
		for range rng.IntN(4) {
			a = append(a, fmt.Sprintf("/images/photo%04d.jpg", rng.IntN(5000)))
		}
		s.assets = append(s.assets, a)
	}
	return s
}

// visit appends the lines of a client's visit at t: a page (or a search)
// and the files it loads, over a few seconds.
func (s *site) visit(rng *rand.Rand, c *webClient, t time.Time, lines []webLine) []webLine {
	ref := "-"
	if c.page != "" {
		ref = "http://www.example.com" + c.page
	}
	var page string
	var assets []string
	if rng.IntN(20) == 0 {
		page = fmt.Sprintf("/search.php?q=%s+%s&page=%d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], 1+rng.IntN(3))
		assets = s.assets[0]
	} else {
		i := zipf(rng, len(s.pages))
		page, assets = s.pages[i], s.assets[i]
	}
	status, size := 200, 2000+rng.IntN(30000)
	if rng.IntN(50) == 0 {
		status, size = 404, 290
	}
	lines = append(lines, webLine{t, request(c.addr, t, "GET "+page+" HTTP/1.1", status, size, ref, c.ua)})
	ref = "http://www.example.com" + page
	for _, a := range assets {
		t = t.Add(time.Duration(20+rng.IntN(400)) * time.Millisecond)
		st, n := 200, 500+rng.IntN(20000)
		if rng.IntN(3) == 0 {
			st, n = 304, 0
		}
		lines = append(lines, webLine{t, request(c.addr, t, "GET "+a+" HTTP/1.1", st, n, ref, c.ua)})
	}
	c.page = page
	return lines
}

// request is a line of the combined log format.
func request(addr string, t time.Time, req string, status, size int, ref, ua string) string {
	sz := "-"
	if size > 0 {
		sz = fmt.Sprint(size)
	}
	return fmt.Sprintf("%s - - [%s] \"%s\" %d %s \"%s\" \"%s\"\n", addr, t.Format("02/Jan/2006:15:04:05 -0700"), req, status, sz, ref, ua)
}

// worm is a worm's probe, which the server answers 404.
func worm(addr string, t time.Time, req string) string {
	return request(addr, t, req, 404, 290, "-", "-")
}

// publicAddr draws an IPv4 address outside the private and reserved
// ranges' first octets.
func publicAddr(rng *rand.Rand) string {
	a := 1 + rng.IntN(223)
	for a == 10 || a == 127 || a == 172 || a == 192 {
		a = 1 + rng.IntN(223)
	}
	return fmt.Sprintf("%d.%d.%d.%d", a, rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
}

// zipf draws an index below n, index i about 1/(i+1) as often as 0.
func zipf(rng *rand.Rand, n int) int {
	// inverse of the harmonic series' integral: i = n^u - 1
	u := rng.Float64()
	i := int(math.Pow(float64(n+1), u)) - 1
	return min(max(i, 0), n-1)
}
