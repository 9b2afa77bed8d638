package taxii

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// principal is who a request comes from: a member and how it proved it.
type principal struct {
	member int    // index in Server.members
	cred   string // basic, bearer or certificate
	user   string // the Basic user name, "" for the others
}

// authFailure says why a request was not authenticated.
type authFailure int

const (
	authMissing   authFailure = iota + 1 // no credentials: 401
	authBad                              // wrong credentials: 401, counted
	authCleartext                        // credentials over plain HTTP from afar: 401
	authLocked                           // too many failures: 429
)

// digestEntry is one hashed token or certificate and its member.
type digestEntry struct {
	sum    [sha256.Size]byte
	member int
}

// authenticator checks credentials: HTTP Basic (PBKDF2 hashes, a cache of
// the credentials already verified so that each costs one derivation per
// process), bearer tokens and client certificates (SHA-256 digests
// compared in constant time), with failures counted per address and per
// user name.
type authenticator struct {
	users     map[string]int // Basic user -> member
	passwords []passwordHash // by member; zero when none
	tokens    []digestEntry
	certs     []digestEntry
	dummy     passwordHash // derived for unknown users, so that they take as long
	loopback  bool         // cleartext credentials allowed from loopback

	mu       sync.Mutex
	verified map[[sha256.Size]byte]int // sha256(user NUL password) -> member
	limit    *limiter
}

// newAuthenticator compiles the members' credentials (Check has parsed
// them already; a bad one is skipped).
func newAuthenticator(cfg Config, now func() time.Time) *authenticator {
	a := &authenticator{users: map[string]int{}, loopback: cfg.CleartextLoopback,
		verified: map[[sha256.Size]byte]int{},
		limit:    newLimiter(cfg.MaxFailures, cfg.FailureWindow.D(), cfg.Lockout.D(), now)}
	a.passwords = make([]passwordHash, len(cfg.Members))
	iter := 1000
	for i, m := range cfg.Members {
		if h, err := parsePasswordHash(m.PasswordHash); err == nil {
			a.passwords[i] = h
			a.users[m.user()] = i
			iter = max(iter, h.iter)
		}
		for _, t := range m.TokenSHA256 {
			if sum, err := parseSHA256(t); err == nil {
				a.tokens = append(a.tokens, digestEntry{sum, i})
			}
		}
		for _, c := range m.CertSHA256 {
			if sum, err := parseSHA256(c); err == nil {
				a.certs = append(a.certs, digestEntry{sum, i})
			}
		}
	}
	a.dummy = passwordHash{iter: iter, salt: "wormwatch-dummy", key: make([]byte, sha256.Size)}
	return a
}

// authenticate finds the member a request comes from.
func (a *authenticator) authenticate(r *http.Request) (principal, authFailure) {
	addr := clientAddr(r)
	if a.limit.locked("addr " + addr.String()) {
		return principal{}, authLocked
	}
	if p, ok := a.certificate(r); ok {
		return p, 0
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return principal{}, authMissing
	}
	if r.TLS == nil && !(a.loopback && addr.IsLoopback()) {
		return principal{}, authCleartext
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		return a.basic(r, addr)
	case "bearer":
		return a.bearer(strings.TrimSpace(rest), addr)
	}
	a.limit.fail("addr " + addr.String())
	return principal{}, authBad
}

// certificate matches the TLS client certificate, if any, against the
// members' pinned digests.
func (a *authenticator) certificate(r *http.Request) (principal, bool) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || len(a.certs) == 0 {
		return principal{}, false
	}
	sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	if m, ok := match(a.certs, sum); ok {
		return principal{member: m, cred: "certificate"}, true
	}
	return principal{}, false
}

// basic checks HTTP Basic credentials.
func (a *authenticator) basic(r *http.Request, addr netip.Addr) (principal, authFailure) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		a.limit.fail("addr " + addr.String())
		return principal{}, authBad
	}
	if a.limit.locked("user " + user) {
		return principal{}, authLocked
	}
	key := sha256.Sum256([]byte(user + "\x00" + pass))
	a.mu.Lock()
	m, ok := a.verified[key]
	a.mu.Unlock()
	if ok {
		return principal{member: m, cred: "basic", user: user}, 0
	}
	m, known := a.users[user]
	h := a.dummy
	if known {
		h = a.passwords[m]
	}
	if !h.verify(pass) || !known {
		a.limit.fail("addr " + addr.String())
		a.limit.fail("user " + user)
		return principal{}, authBad
	}
	a.mu.Lock()
	a.verified[key] = m
	a.mu.Unlock()
	return principal{member: m, cred: "basic", user: user}, 0
}

// bearer checks a bearer token.
func (a *authenticator) bearer(token string, addr netip.Addr) (principal, authFailure) {
	if m, ok := match(a.tokens, sha256.Sum256([]byte(token))); ok && token != "" {
		return principal{member: m, cred: "bearer"}, 0
	}
	a.limit.fail("addr " + addr.String())
	return principal{}, authBad
}

// match compares sum with every entry in constant time (no early exit) and
// returns the member of the one equal.
func match(entries []digestEntry, sum [sha256.Size]byte) (int, bool) {
	found, member := 0, 0
	for _, e := range entries {
		eq := subtle.ConstantTimeCompare(e.sum[:], sum[:])
		member = subtle.ConstantTimeSelect(eq, e.member, member)
		found |= eq
	}
	return member, found == 1
}

// clientAddr is the address of the request's peer (the unspecified address
// when it cannot be read).
func clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return a.Unmap()
}

// limiter counts failures by key (an address, a user name) in a window and
// refuses a key for a while once it reaches the most allowed. Written by
// hand: a fixed window and a lockout are all it needs, and
// golang.org/x/time/rate's token buckets limit rates, not failures.
type limiter struct {
	most          int
	window, block time.Duration
	now           func() time.Time

	mu   sync.Mutex
	keys map[string]*failures
}

// failures are one key's failures in its current window.
type failures struct {
	start time.Time // the window's start
	n     int
	until time.Time // refused until then
}

// maxKeys bounds the limiter's memory: past it, keys neither refused nor
// in a live window are dropped.
const maxKeys = 100_000

func newLimiter(most int, window, block time.Duration, now func() time.Time) *limiter {
	return &limiter{most: most, window: window, block: block, now: now, keys: map[string]*failures{}}
}

// locked reports whether key is refused now.
func (l *limiter) locked(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	return f != nil && l.now().Before(f.until)
}

// fail counts a failure of key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f := l.keys[key]
	if f == nil {
		if len(l.keys) >= maxKeys {
			l.prune(now)
		}
		f = &failures{start: now}
		l.keys[key] = f
	}
	if now.Sub(f.start) > l.window {
		f.start, f.n = now, 0
	}
	f.n++
	if f.n >= l.most {
		f.until = now.Add(l.block)
		f.start, f.n = now, 0
	}
}

// prune drops the keys that hold nothing live.
func (l *limiter) prune(now time.Time) {
	for k, f := range l.keys {
		if !now.Before(f.until) && now.Sub(f.start) > l.window {
			delete(l.keys, k)
		}
	}
}
