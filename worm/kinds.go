package worm

import (
	"strings"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// RateModel names how the probe rate of a host is set (rate.model): one
// of the models registered in rateModels.
type RateModel string

// The rate models.
const (
	RateThreads RateModel = "threads" // from the threads and their timeouts
	RateFixed   RateModel = "fixed"   // rate.fixed probes per second
)

// rateModel is what one rate model does: rate is the probe rate of a
// scanning host of language lang when a share q of its attempts end at
// once; check, if set, states the rule between the model's keys.
type rateModel struct {
	rate  func(r Rate, lang uint8, q float64) float64
	check func(r Rate) *KeyError
}

// rateModels are the rate models, in the order the documentation lists
// them.
var rateModels = param.NewRegistry[RateModel, rateModel]("rate model")

func init() {
	rateModels.Register(RateThreads, 0, "derive the rate from threads and timeouts", rateModel{rate: threadsRate, check: checkThreads})
	rateModels.Register(RateFixed, 1, "use fixed", rateModel{rate: func(r Rate, _ uint8, _ float64) float64 { return r.Fixed }})
}

// Enum lists the rate models (see param.Enumerated).
func (RateModel) Enum() []string { return rateModels.Names() }

// ParamDoc documents the rate models, for rate.model.
func (RateModel) ParamDoc() string { return rateModels.Doc() }

// threadsRate is the probe rate (connection attempts per second) of one
// host: each scanning thread loops over connect attempts; an attempt to an
// address that never answers (share 1-q) lasts Timeout, one that ends at
// once (an answer, or a router's ICMP unreachable: share q) lasts
// AnsweredAttempt, so a thread makes 1 / ((1-q) Timeout + q
// AnsweredAttempt) attempts per second.
func threadsRate(r Rate, lang uint8, q float64) float64 {
	per := (1-q)*r.Timeout.Seconds() + q*r.AnsweredAttempt.Seconds()
	if per <= 0 {
		return 0
	}
	return float64(Threads(r, lang)) / per
}

// checkThreads states that English-language hosts keep at least one
// scanning thread.
func checkThreads(r Rate) *KeyError {
	if r.NonScanningEnglish >= r.Threads {
		return keyErr("rate.non_scanning_english", "%d leaves no scanning thread out of threads = %d", r.NonScanningEnglish, r.Threads)
	}
	return nil
}

// CheckRate checks the rule between the keys of a worm's rate table that
// its model states, if any.
func CheckRate(r Rate) *KeyError {
	if m, ok := rateModels.Lookup(r.Model); ok && m.check != nil {
		return m.check(r)
	}
	return nil
}

// Request names the request line a web server logs for one probe
// (wire.request): one of the requests registered in requests.
type Request string

// The requests.
const (
	RequestCodeRed  Request = "codered"  // Code Red I's GET /default.ida?NNNN...
	RequestCodeRed2 Request = "codered2" // Code Red II's GET /default.ida?XXXX...
	RequestGet      Request = "get"      // GET / HTTP/1.0
)

// codeRedTail is the encoded end of Code Red's request as web servers
// logged it (shared/reference/worm-signatures.md; the sample honeypot logs).
// It is the visible request line only, as IDS signatures quote it.
const codeRedTail = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"

// requests are the request lines, by name.
var requests = param.NewRegistry[Request, string]("request")

func init() {
	requests.Register(RequestCodeRed, 0, "Code Red I", "GET /default.ida?"+strings.Repeat("N", 224)+codeRedTail+" HTTP/1.0")
	requests.Register(RequestCodeRed2, 1, "Code Red II", "GET /default.ida?"+strings.Repeat("X", 224)+codeRedTail+" HTTP/1.0")
	requests.Register(RequestGet, 2, "a plain request", "GET / HTTP/1.0")
}

// Enum lists the requests (see param.Enumerated).
func (Request) Enum() []string { return requests.Names() }

// Line returns the request line (its %r in Apache's log format); an
// unknown request is a plain GET /.
func (r Request) Line() string {
	if line, ok := requests.Lookup(r); ok {
		return line
	}
	return "GET / HTTP/1.0"
}

// OnInfected names what a permutation scanner does when a probe finds a
// host its variant infected (targeting.permutation.on_infected).
type OnInfected string

// The choices of OnInfected.
const (
	OnInfectedRestart  OnInfected = "restart"  // restart at a random point of the permutation
	OnInfectedContinue OnInfected = "continue" // carry on
)

// Enum lists the choices (see param.Enumerated).
func (OnInfected) Enum() []string {
	return []string{string(OnInfectedRestart), string(OnInfectedContinue)}
}

// OS names an operating-system class a worm can infect (infects): one of
// those registered in osClasses, each standing for an ipv4 OS code.
type OS string

// The operating-system classes.
const (
	OSWin2000 OS = "win2000" // Windows 2000 with IIS 5.0 (ipv4.OSWin2000)
	OSNT4     OS = "nt4"     // Windows NT 4.0 with IIS 4.0 (ipv4.OSNT4)
)

// osClasses maps the classes to the codes of ipv4.Hosts.OS.
var osClasses = param.NewRegistry[OS, uint8]("OS class")

func init() {
	osClasses.Register(OSWin2000, 0, "Windows 2000 / IIS 5", ipv4.OSWin2000)
	osClasses.Register(OSNT4, 1, "Windows NT 4 / IIS 4", ipv4.OSNT4)
}

// Enum lists the OS classes (see param.Enumerated).
func (OS) Enum() []string { return osClasses.Names() }
