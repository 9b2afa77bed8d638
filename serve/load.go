package serve

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/internal/infile"
	"wormwatch/internal/names"
	"wormwatch/internal/param"
	"wormwatch/pool"
)

// MaxConfigBytes is the largest configuration file read, 4 MiB.
const MaxConfigBytes = 4 << 20

// MinTokenLength is the fewest characters a token may have.
const MinTokenLength = 16

// Load reads a configuration: the defaults of every key, then the TOML
// file (when file is not ""; strictly: an unknown key is an error), then
// the command line's overrides, then checks every key and the rules
// between them (see docs/serve.md): input formats that fit their kinds,
// names and sensors, token and certificate files that can be read,
// signature files that parse, and no listening beyond loopback without
// TLS and a token. The error is the first problem found, a *ConfigError
// naming the file, line and key (or the flag).
func Load(file string, o Overrides) (*Config, error) {
	cfg := new(Config)
	l := param.NewLoader(cfg)
	if file != "" {
		data, err := infile.ReadAll(file, "configuration file", MaxConfigBytes)
		if err != nil {
			return nil, &ConfigError{File: file, Msg: err.Error()}
		}
		data = bytes.TrimPrefix(data, []byte("\ufeff"))
		if err := l.Decode(data); err != nil {
			return nil, asConfigError(file, err)
		}
	}
	for _, a := range o.Sets {
		if err := l.Set(a); err != nil {
			return nil, asConfigError(file, err)
		}
	}
	cfg.File = file
	deriveNames(cfg.Inputs)
	if errs := l.Validate(); len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b param.FieldError) int {
			return cmp.Or(cmp.Compare(rank(a.Origin), rank(b.Origin)), cmp.Compare(a.Line, b.Line))
		})
		return nil, fieldError(file, errs[0])
	}
	for _, in := range o.Inputs {
		ins := []Input{in}
		deriveNames(ins)
		if errs := param.Validate(&ins[0]); len(errs) > 0 {
			return nil, &ConfigError{Flag: in.flag, Key: errs[0].Path, Msg: errs[0].Msg}
		}
		cfg.Inputs = append(cfg.Inputs, ins[0])
	}
	cfg.Signatures = append(cfg.Signatures, o.Signatures...)
	if o.HTTPPorts != nil {
		for _, p := range o.HTTPPorts {
			if p < 0 || p > 65535 {
				return nil, &ConfigError{Flag: fmt.Sprintf("--http-ports %d", p), Msg: "want ports from 0 to 65535"}
			}
		}
		cfg.HTTPPorts = o.HTTPPorts
	}
	c := checker{cfg: cfg, l: l}
	if err := c.check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// asConfigError turns an error of param into a *ConfigError of file.
func asConfigError(file string, err error) *ConfigError {
	var fe *param.FieldError
	if errors.As(err, &fe) {
		return fieldError(file, *fe)
	}
	return &ConfigError{File: file, Msg: err.Error()}
}

// rank orders error origins: keys of the file, then flags, then defaults.
func rank(o param.Origin) int {
	switch {
	case o.Line > 0:
		return 0
	case o.Set != "":
		return 1
	}
	return 2
}

// checker checks the rules between keys, with the Loader that knows where
// each key was given.
type checker struct {
	cfg *Config
	l   *param.Loader
}

// at returns the error of the value at a canonical path.
func (c *checker) at(path, format string, a ...any) *ConfigError {
	return fieldError(c.cfg.File, c.l.Error(path, fmt.Sprintf(format, a...)))
}

// input returns the error of input i's key.
func (c *checker) input(i int, key, format string, a ...any) *ConfigError {
	in := c.cfg.Inputs[i]
	if in.flag != "" {
		return &ConfigError{Flag: in.flag, Key: key, Msg: fmt.Sprintf(format, a...)}
	}
	return c.at(fmt.Sprintf("input.%d.%s", i, key), format, a...)
}

// check checks everything the tags cannot say.
func (c *checker) check() error {
	cfg := c.cfg
	if ivl := cfg.Watch.Interval.D(); ivl < time.Second || ivl%time.Second != 0 {
		return c.at("watch.interval", "%v: want whole seconds, at least 1s (the series' times are written to the second, as detect --series writes them)", ivl)
	}
	if err := cfg.Forecast.Validate(); err != nil {
		var pe *forecast.ParamError
		if errors.As(err, &pe) {
			return c.at("forecast."+pe.Key, "%s", pe.Msg)
		}
		return c.at("forecast", "%v", err)
	}
	if cfg.Service.Data == "" {
		return c.at("service.data", "empty: give a folder")
	}
	if err := c.checkInputs(); err != nil {
		return err
	}
	if err := c.checkRemotes(); err != nil {
		return err
	}
	if err := c.checkPools(); err != nil {
		return err
	}
	if _, _, err := detect.LoadTable(cfg.Signatures); err != nil {
		return c.at("signatures", "%v", err)
	}
	if err := c.checkAlert(); err != nil {
		return err
	}
	if err := c.checkSharing(); err != nil {
		return err
	}
	if err := c.checkNotify(); err != nil {
		return err
	}
	return c.checkListen()
}

// checkInputs checks each input's path and format, and that names are
// unique and a sensor has one size.
func (c *checker) checkInputs() error {
	seen := map[string]int{}
	keys := map[string]int{}
	sizes := map[string]uint64{}
	for i, in := range c.cfg.Inputs {
		switch {
		case in.Path == "":
			return c.input(i, "path", "missing: give the file to read")
		case in.Path == "-" && !in.Kind.captures():
			return c.input(i, "path", "- (standard input) is read by kind pcap only: a followed log is a file")
		case in.Kind.captures() && in.Format != "auto" && in.Format != "":
			return c.input(i, "format", "not for kind %s (captures are told by their first bytes)", in.Kind)
		}
		if err := names.Check(in.Name); err != nil {
			if !c.given(i, "name") {
				return c.input(i, "name", "%q, made from the path %s, is not a name (%v): give name=...", in.Name, in.Path, err)
			}
			return c.input(i, "name", "%v", err)
		}
		if err := names.Check(in.Sensor); err != nil {
			return c.input(i, "sensor", "%v", err)
		}
		if err := checkFormat(in); err != nil {
			return c.input(i, "format", "%v", err)
		}
		if j, ok := seen[in.Name]; ok {
			return c.input(i, "name", "%q is the name of input %d too: give each input a name of its own (name=...)", in.Name, j+1)
		}
		seen[in.Name] = i
		k := in.key()
		if j, ok := keys[k]; ok {
			return c.input(i, "path", "%s is input %d already", in.Path, j+1)
		}
		keys[k] = i
		if s, ok := sizes[in.Sensor]; ok && s != in.Size {
			return c.input(i, "size", "%d, but another input of sensor %s has size %d: a sensor has one size", in.Size, in.Sensor, s)
		}
		sizes[in.Sensor] = in.Size
	}
	return nil
}

// given reports whether key of input i was given (not derived).
func (c *checker) given(i int, key string) bool {
	if c.cfg.Inputs[i].flag != "" {
		return strings.Contains(c.cfg.Inputs[i].flag, ","+key+"=")
	}
	return c.l.Explicit(fmt.Sprintf("input.%d.%s", i, key))
}

// checkFormat checks an input's format against its kind.
func checkFormat(in Input) error {
	k, err := inputKinds.Get(in.Kind)
	if err != nil || k.format == nil {
		return err
	}
	f, err := detect.ParseFormat(cmp.Or(in.Format, "auto"))
	if err != nil {
		return err
	}
	return k.format(f, in.Format)
}

// checkRemotes checks the remote sensors and reads their tokens.
func (c *checker) checkRemotes() error {
	cfg := c.cfg
	cfg.PushTokens = map[string]string{}
	sensors := map[string]bool{}
	for _, in := range cfg.Inputs {
		sensors[in.Sensor] = true
	}
	for i, r := range cfg.Remotes {
		switch {
		case r.Sensor == "":
			return c.at(fmt.Sprintf("remote.%d.sensor", i), "missing: give the remote sensor's name")
		case sensors[r.Sensor]:
			return c.at(fmt.Sprintf("remote.%d.sensor", i), "%s is a sensor of the inputs (or another remote): a remote sensor needs a name of its own", r.Sensor)
		case r.TokenFile == "":
			return c.at(fmt.Sprintf("remote.%d.token_file", i), "missing: a remote sensor pushes with a token of its own")
		}
		sensors[r.Sensor] = true
		if err := c.checkBlock(i); err != nil {
			return err
		}
		tok, err := readToken(r.TokenFile)
		if err != nil {
			return c.at(fmt.Sprintf("remote.%d.token_file", i), "%v", err)
		}
		cfg.PushTokens[r.Sensor] = tok
	}
	return nil
}

// checkBlock checks the block of remote i: a CIDR IPv4 prefix when it
// pushes its sources, none when it does not.
func (c *checker) checkBlock(i int) error {
	r := &c.cfg.Remotes[i]
	key := fmt.Sprintf("remote.%d.block", i)
	if !r.Sources {
		if r.Block != "" {
			return c.at(key, "%q: only a remote sensor with sources = true gives its block (a series gives its size)", r.Block)
		}
		return nil
	}
	p, err := netip.ParsePrefix(r.Block)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return c.at(key, "%q: want the IPv4 block the sensor watches, as CIDR (192.0.2.0/24)", r.Block)
	}
	r.block, err = pool.PrefixBlock(r.Sensor, p)
	if err != nil {
		return c.at(key, "%v", err)
	}
	return nil
}

// checkPools checks the pools: a name of their own, two or more sensors,
// each a sensor of the inputs or a remote sensor, once; a lag only for a
// pool with remote sensors.
func (c *checker) checkPools() error {
	local, remote, taken := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, in := range c.cfg.Inputs {
		local[in.Sensor], taken[in.Sensor] = true, true
	}
	for _, r := range c.cfg.Remotes {
		remote[r.Sensor], taken[r.Sensor] = true, true
	}
	for i, p := range c.cfg.Pools {
		key := fmt.Sprintf("pool.%d", i)
		switch {
		case p.Name == "":
			return c.at(key+".name", "missing: give the pool's name")
		case taken[p.Name]:
			return c.at(key+".name", "%s is the name of a sensor or of another pool: a pool needs a name of its own", p.Name)
		case len(p.Sensors) < 2:
			return c.at(key+".sensors", "%d of them: a pool joins two sensors or more", len(p.Sensors))
		case p.Lag != 0 && !c.cfg.remotePool(p):
			return c.at(key+".lag", "%v: only a pool with remote sensors waits for its sensors' rows (a pool of the inputs' sensors counts their records as they come)", p.Lag.D())
		}
		taken[p.Name] = true
		for j, s := range p.Sensors {
			switch {
			case !local[s] && !remote[s]:
				return c.at(key+".sensors", "%q is no sensor of the inputs and no [[remote]] sensor", s)
			case slices.Contains(p.Sensors[:j], s):
				return c.at(key+".sensors", "%q is given twice", s)
			}
		}
		if err := c.checkExactPool(key, p); err != nil {
			return err
		}
	}
	return nil
}

// checkListen checks the address, the TLS files and the token, and
// refuses an address other than loopback without TLS and a token.
func (c *checker) checkListen() error {
	s := &c.cfg.Service
	host, port, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return c.at("service.listen", "%q: want host:port (127.0.0.1:8080, [::1]:8080)", s.Listen)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return c.at("service.listen", "%q: the port %q is not a port", s.Listen, port)
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return c.at("service.tls_cert", "give both tls_cert and tls_key, or neither")
	}
	if s.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
			return c.at("service.tls_cert", "%s and %s: %v", s.TLSCert, s.TLSKey, err)
		}
	}
	if s.TokenFile != "" {
		if c.cfg.Token, err = readToken(s.TokenFile); err != nil {
			return c.at("service.token_file", "%v", err)
		}
	}
	if !Loopback(host) && (s.TLSCert == "" || c.cfg.Token == "") {
		return c.at("service.listen", "%s is not a loopback address: listening there requires tls_cert, tls_key and token_file (HTTPS and a read token), or listen on 127.0.0.1 behind a proxy that has them", s.Listen)
	}
	return nil
}

// Loopback reports whether host (of host:port) is a loopback address or
// localhost. The empty host (every interface) is not.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readToken reads a token: the first line of a file, at least
// MinTokenLength characters, printable ASCII without spaces.
func readToken(path string) (string, error) {
	data, err := infile.ReadAll(path, "token file", 64<<10)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	tok := strings.TrimSpace(line)
	if len(tok) < MinTokenLength {
		return "", fmt.Errorf("%s: the token (first line) has %d characters: want at least %d", path, len(tok), MinTokenLength)
	}
	for _, r := range tok {
		if r <= ' ' || r > '~' {
			return "", fmt.Errorf("%s: the token holds a character other than printable ASCII", path)
		}
	}
	return tok, nil
}

// key is the input's identity in the store: its kind and absolute path.
func (in *Input) key() string {
	if in.Path == "-" {
		return string(in.Kind) + ":-"
	}
	p, err := filepath.Abs(in.Path)
	if err != nil {
		p = filepath.Clean(in.Path)
	}
	return string(in.Kind) + ":" + p
}

// Describe writes what the configuration would run, for people: the
// address, the data folder, each input and remote sensor, and the
// settings, then the configuration resolved as TOML (every key with the
// value used).
func (cfg *Config) Describe(w io.Writer) error {
	s := &cfg.Service
	scheme, auth := "http", "no token"
	if s.TLSCert != "" {
		scheme = "https"
	}
	if cfg.Token != "" {
		auth = "read token from " + s.TokenFile
	}
	fmt.Fprintf(w, "listen   %s://%s (%s)\n", scheme, s.Listen, auth)
	fmt.Fprintf(w, "data     %s\n", s.Data)
	fams, _, err := detect.LoadTable(cfg.Signatures)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "families %d (built-in table%s)\n", len(fams), strings.Repeat(" + a file", len(cfg.Signatures)))
	for i, in := range cfg.Inputs {
		fmt.Fprintf(w, "input %d  %s %s: name %s, sensor %s (size %d)", i+1, in.Kind, in.Path, in.Name, in.Sensor, in.Size)
		if !in.Kind.captures() {
			fmt.Fprintf(w, ", format %s", cmp.Or(in.Format, "auto"))
		}
		fmt.Fprintln(w)
	}
	if len(cfg.Inputs) == 0 {
		fmt.Fprintln(w, "inputs   none (remote pushes only)")
	}
	for _, r := range cfg.Remotes {
		fmt.Fprintf(w, "remote   %s (token from %s)\n", r.Sensor, r.TokenFile)
	}
	fmt.Fprintf(w, "watch    interval %v, lateness %d; commit every %v; clock %v\n", cfg.Watch.Interval.D(), cfg.Watch.Lateness, s.CommitInterval.D(), s.Clock)
	for _, h := range cfg.Alert.Webhooks {
		fmt.Fprintf(w, "webhook  %s: %s %v\n", h.Name, urlHost(h.URL), h.Events)
	}
	fmt.Fprintf(w, "alerts   STIX bundles %v, CSAF drafts %v, TLP %s\n", cfg.Alert.STIX, cfg.Alert.CSAF, cfg.Alert.TLP)
	if n := cfg.Notify; n.Enabled {
		how := "written only (no smtp)"
		if n.SMTP != "" {
			how = "sent through " + n.SMTP + " from " + n.From
		}
		fmt.Fprintf(w, "notify   owners %q, %d delegation files; %s; window %v, every %v\n", n.Owners, len(n.Delegations), how, n.Window.D(), n.Every.D())
	}
	fmt.Fprintln(w)
	body, err := param.Marshal(cfg)
	if err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

// checkExactPool checks a pool whose sensors all push their sources:
// their blocks disjoint (pool.Size), and no lag (its rows are rebuilt
// from every sensor's sources at a restart).
func (c *checker) checkExactPool(key string, p Pool) error {
	if !c.cfg.exactPool(p) {
		return nil
	}
	if p.Lag != 0 {
		return c.at(key+".lag", "%v: a pool whose sensors all push their sources waits for every sensor (lag 0s)", p.Lag.D())
	}
	var blocks []pool.Block
	for _, s := range p.Sensors {
		blocks = append(blocks, c.cfg.remote(s).block)
	}
	if _, err := pool.Size(blocks); err != nil {
		return c.at(key+".sensors", "%v", err)
	}
	return nil
}
