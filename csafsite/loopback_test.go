package csafsite

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"wormwatch/internal/smtptest"
)

// The host names the tools are given: the site's and CSAF's DNS path. Both
// are names of the reserved .test domain, resolved by nobody: the tools
// reach them through a CONNECT proxy of the test (HTTPS_PROXY) that tunnels
// to the site's loopback listener, so no packet leaves the machine and no
// DNS query is made.
const (
	testHost    = "wormwatch.test"
	testDNSHost = "csaf.data.security.wormwatch.test"
)

// loopback is a site served over TLS on loopback, with what the BSI's
// tools need to reach it: the CA's certificate file and the proxy's URL.
type loopback struct {
	site   *Site
	caFile string
	proxy  string
	dir    string
	tunnel *tunnel
}

// serveLoopback serves the site over TLS (a certificate for testHost and
// testDNSHost from a CA made for the test) behind the CONNECT proxy, with
// the site's handler mounted on a ServeMux at its Patterns, as a service
// mounts it. wrap, if not nil, wraps the handler (to break the site).
func serveLoopback(t *testing.T, s *Site, wrap func(http.Handler) http.Handler) *loopback {
	t.Helper()
	dir := t.TempDir()
	ca := smtptest.NewCA(t, testHost, testDNSHost) // a CA made for the test, and the site's certificate
	caFile := ca.WritePEM(t, dir, "ca.pem")
	cert := ca.Server
	mux := http.NewServeMux()
	for _, p := range s.Patterns() {
		mux.Handle(p, s.Handler())
	}
	var h http.Handler = mux
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tun := &tunnel{target: srv.Listener.Addr().String(), allowed: []string{testHost + ":443", testDNSHost + ":443"}}
	px := httptest.NewServer(tun)
	t.Cleanup(px.Close)
	return &loopback{site: s, caFile: caFile, proxy: px.URL, dir: dir, tunnel: tun}
}

// tunnel is an HTTP CONNECT proxy that tunnels to one loopback address,
// for the allowed host:port pairs only; it records every other request,
// which the tests treat as a failure (a tool trying to go elsewhere).
type tunnel struct {
	target  string
	allowed []string
	mu      sync.Mutex
	refused []string
}

func (p *tunnel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect || !slices.Contains(p.allowed, r.Host) {
		p.mu.Lock()
		p.refused = append(p.refused, r.Method+" "+r.Host+r.URL.Path)
		p.mu.Unlock()
		http.Error(w, "this proxy reaches the test site only", http.StatusForbidden)
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() {
		io.Copy(up, buf.Reader)
		up.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(conn, up)
	conn.Close()
	up.Close()
}

// refusals returns what the proxy refused.
func (p *tunnel) refusals() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.refused)
}

// tool returns the path of a Go tool of go.mod (go tool -n builds it into
// the build cache and prints where it is: the cache is executable where
// /tmp may not be, and the tool then runs without the go command between).
func tool(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "tool", "-n", name).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go tool -n %s: %v\n%s", name, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// run runs a tool against the loopback site: the proxy and the CA given by
// the environment (HTTPS_PROXY; SSL_CERT_FILE, which Go's TLS reads on
// Linux), any proxy or certificate setting of the caller's environment
// dropped, in the loopback's folder. It returns the combined output.
func (l *loopback) run(t *testing.T, bin string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = l.dir
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "HTTPS_PROXY="+l.proxy, "SSL_CERT_FILE="+l.caFile, "SSL_CERT_DIR="+l.dir)
	return cmd.CombinedOutput()
}
