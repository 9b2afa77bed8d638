package serve

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"wormwatch/csafsite"
	"wormwatch/taxii"

	"wormwatch/alert"
	"wormwatch/forecast"
	"wormwatch/internal/names"
	"wormwatch/internal/param"
	"wormwatch/internal/paramcli"
	"wormwatch/notify"
	"wormwatch/pool"
	"wormwatch/watch"
)

// Settings are the settings of the service itself: the [service] table of
// a configuration file, and the flags of wormwatch serve named by their
// keys with dashes (--listen, --commit-interval).
type Settings struct {
	Listen         string         `toml:"listen" default:"127.0.0.1:8080" doc:"address to listen on, host:port (port 0: any free port); an address other than loopback requires tls_cert, tls_key and token_file"`
	Data           string         `toml:"data" default:"wormwatch-data" doc:"the data folder: the store (wormwatch.db) and its lock, made when missing; one service at a time"`
	CommitInterval param.Duration `toml:"commit_interval" default:"500ms" min:"10ms" max:"1h" doc:"how often the results are committed to the store with the inputs' positions, and published to the event stream"`
	TLSCert        string         `toml:"tls_cert" doc:"PEM certificate file: serve HTTPS (with tls_key)"`
	TLSKey         string         `toml:"tls_key" doc:"PEM private key file of tls_cert"`
	TokenFile      string         `toml:"token_file" doc:"file whose first line is the read token: every /api/ request must then carry Authorization: Bearer TOKEN (pushes carry their sensor's)"`
	LogFormat      string         `toml:"log_format" default:"text" enum:"text,json" doc:"log lines on standard error: text or json (log/slog)"`
	LogLevel       string         `toml:"log_level" default:"info" enum:"debug,info,warn,error" doc:"the least important log lines written"`
	SpaceBits      int            `toml:"space_bits" default:"32" min:"1" max:"64" doc:"address space the worms scan, in bits (forecast --space-bits): only the filter's scan rate per host depends on it"`
	Clock          bool           `toml:"clock" default:"true" doc:"close the intervals of a live sensor that falls quiet with the wall clock (see clock_window); false: only records close intervals, as in batch"`
	ClockDelay     param.Duration `toml:"clock_delay" default:"10s" min:"0s" max:"1d" doc:"the wall clock closes an interval this long after its end: records that arrive later than that are late"`
	ClockWindow    param.Duration `toml:"clock_window" default:"1h" min:"1s" max:"30d" doc:"a sensor is live, and the wall clock closes its intervals, while its latest record is at most this far from the wall clock"`
	MaxLine        int            `toml:"max_line" default:"65536" min:"256" max:"67108864" doc:"log lines longer than this many bytes are counted as too_long and skipped (detect --max-line)"`
	Poll           param.Duration `toml:"poll" default:"250ms" min:"10ms" max:"1m" doc:"how often followed files and capture folders are looked at besides file system events"`
	ShutdownGrace  param.Duration `toml:"shutdown_grace" default:"10s" min:"0s" max:"10m" doc:"after SIGTERM or SIGINT, how long the final commit and the open requests may take before the service exits anyway"`
	MaxPushBytes   int64          `toml:"max_push_bytes" default:"8388608" min:"1024" max:"268435456" doc:"largest body of a remote sensor's push, in bytes"`
}

// Input is one input: an [[input]] table of a configuration file, or a
// --follow, --zeek or --pcap flag.
type Input struct {
	Kind   InputKind `toml:"kind" default:"log"` // allowed values and doc: the kinds (kinds.go)
	Path   string    `toml:"path" doc:"the file (or folder, or - for pcap); relative to the working folder. Its name in detect's report is this text, as detect names what it is given"`
	Name   string    `toml:"name" doc:"the input's name in logs and the status, a name (1 to 64 lowercase letters a-z, digits, '.', '_' and '-', starting with a letter or a digit; default: from the file name: access.log is access)"`
	Sensor string    `toml:"sensor" doc:"the sensor its records count for, a name (default: the input's name); inputs of one sensor make one set of series"`
	Size   uint64    `toml:"size" default:"1" min:"1" max:"4294967295" doc:"addresses the sensor covers: 1 for a web server, 65536 for a /16 telescope (the size column of its series)"`
	Format string    `toml:"format" default:"auto" when:"kind=log,zeek" doc:"the log format: auto, combined, common, nginx or iis for kind log; auto, zeek or zeek-json for kind zeek"`

	flag string // the flag that gave it ("--follow PATH"), "" for the file's
}

// Remote is a remote sensor allowed to push its series
// (POST /api/v1/series/SENSOR), or with Sources its sources
// (POST /api/v1/sources/SENSOR): a [[remote]] table.
type Remote struct {
	Sensor    string `toml:"sensor" valid:"name" doc:"the remote sensor's name: its series' key"`
	TokenFile string `toml:"token_file" doc:"file whose first line is the sensor's push token (Authorization: Bearer TOKEN)"`
	Sources   bool   `toml:"sources" default:"false" doc:"the sensor pushes the sources it saw per interval (POST /api/v1/sources/SENSOR), not its series: its series is made of them, and a pool of such sensors counts their union exactly (docs/serve.md, Pools)"`
	Block     string `toml:"block" doc:"with sources: the IPv4 block the sensor watches, as CIDR (192.0.2.0/24): its size, and a pool of such sensors needs them disjoint"`

	block pool.Block // Block parsed (with sources)
}

// Pool is a pool of the service's sensors watched as one telescope
// (docs/serve.md, Pools). A pool of the inputs' sensors is the union of
// their records, with the sum of their sizes; a pool that names a remote
// sensor (a [[remote]]) is made of its sensors' series (pools.go).
type Pool struct {
	Name    string         `toml:"name" valid:"name" doc:"the pool's name: the sensor name of its series (not a sensor of the inputs or a remote sensor)"`
	Sensors []string       `toml:"sensors" maxlen:"1024" doc:"the sensors it pools (two or more), watching disjoint address blocks: sensors of the inputs (their records are counted once more, exactly) and remote sensors of [[remote]] (then the pool is the sum of its sensors' series, or the exact union of their sources when every sensor is a [[remote]] with sources = true: docs/serve.md, Pools); its size is the sum of theirs"`
	Lag     param.Duration `toml:"lag" default:"0s" min:"0s" max:"30d" doc:"a pool with remote sensors: an interval closes when every sensor has its row, or once a sensor has a row this much later (data time), the sensors without their row counted absent; 0s: wait for every sensor"`
}

// remotePool reports whether pool p names a remote sensor: it is then
// made of its sensors' series, not of their records.
func (c *Config) remotePool(p Pool) bool {
	for _, r := range c.Remotes {
		if slices.Contains(p.Sensors, r.Sensor) {
			return true
		}
	}
	return false
}

// remote returns the [[remote]] of sensor name, nil for none.
func (c *Config) remote(name string) *Remote {
	for i := range c.Remotes {
		if c.Remotes[i].Sensor == name {
			return &c.Remotes[i]
		}
	}
	return nil
}

// exactPool reports whether every sensor of pool p pushes its sources:
// the pool then counts their union exactly (pool.Union), not pool.Sum of
// their series.
func (c *Config) exactPool(p Pool) bool {
	for _, s := range p.Sensors {
		if r := c.remote(s); r == nil || !r.Sources {
			return false
		}
	}
	return true
}

// poolSize returns the size of pool p: the sum of its sensors' sizes.
func (c *Config) poolSize(p Pool) uint64 {
	var n uint64
	seen := map[string]bool{}
	for _, in := range c.Inputs {
		if slices.Contains(p.Sensors, in.Sensor) && !seen[in.Sensor] {
			seen[in.Sensor] = true
			n += in.Size
		}
	}
	return n
}

// Config is the whole configuration of the service, declared once with
// param's tags: the keys of a TOML file, the flags of wormwatch serve
// (the keys of Settings, watch.Settings and forecast.Settings with dashes) and the tables of
// docs/serve.md come from it. Load fills and checks it. Alert is package
// alert's table, [alert] with its [[alert.webhook]]s: it changes on reload.
type Config struct {
	Service    Settings          `toml:"service" doc:"the service itself"`
	Signatures []string          `toml:"signatures" maxlen:"64" doc:"signature files (TOML, as detect --signatures) added to the built-in table, in order"`
	HTTPPorts  []int             `toml:"http_ports" default:"80,8000,8008,8080,8888" min:"0" max:"65535" maxlen:"1024" doc:"in captures, the TCP ports whose streams are reassembled and read as HTTP requests (detect --http-ports)"`
	Inputs     []Input           `toml:"input" maxlen:"1024" doc:"the inputs"`
	Remotes    []Remote          `toml:"remote" maxlen:"1024" doc:"remote sensors that push their series (or their sources)"`
	Pools      []Pool            `toml:"pool" maxlen:"64" doc:"pools of sensors watched as one telescope besides each on its own (docs/serve.md, Pools)"`
	Watch      watch.Settings    `toml:"watch" doc:"the online analysis (docs/serve.md, watch)"`
	Forecast   forecast.Settings `toml:"forecast" doc:"the early-warning filter and the forecasts (docs/forecast.md)"`
	Alert      alert.Config      `toml:"alert" doc:"alerts of alarm transitions: signed webhooks, STIX bundles, CSAF drafts (docs/serve.md, Alerts)"`
	TAXII      taxii.Config      `toml:"taxii" doc:"the TAXII 2.1 server of a sharing alliance: members, trust groups, TLP 2.0 (docs/share.md)"`
	CSAF       csafsite.Config   `toml:"csaf" doc:"the CSAF 2.0 trusted provider: the advisories published from the alarms' drafts and a folder (docs/share.md)"`
	Notify     NotifyConfig      `toml:"notify" doc:"telling the owners of infected machines: notices written and e-mailed (docs/share.md, Telling owners)"`

	// File is the configuration file read, "" for none.
	File string `toml:"-"`
	// Token is the read token (from Settings.TokenFile), "" for none.
	Token string `toml:"-"`
	// PushTokens are the remote sensors' push tokens, by sensor.
	PushTokens map[string]string `toml:"-"`
	// BaseURLGiven says that alert.base_url was given (in the file or a
	// flag); when it was not, and the service listens on loopback, the
	// links of alerts name the address it listens on.
	BaseURLGiven bool `toml:"-"`

	notifyJob *notify.Job // [notify]'s job, made by the check; nil when not enabled
}

// Overrides are what the command line gives over a configuration file.
type Overrides struct {
	// Sets are assignments "table.key=value" (service.listen=..., watch.
	// interval=..., forecast.horizon=...), as param.Loader.Set takes them:
	// the flags of Settings, watch.Settings and forecast.Settings.
	Sets []string
	// Inputs are appended to the file's (ParseInputFlag makes them).
	Inputs []Input
	// Signatures are appended to the file's.
	Signatures []string
	// HTTPPorts replace the file's when not nil.
	HTTPPorts []int
}

// FlagSets are the parameter structs whose keys are flags of wormwatch
// serve, by their table in a configuration file.
var FlagSets = []struct {
	Table string
	New   func() any // a pointer to a struct holding the defaults
}{
	{"service", func() any { var s Settings; param.Defaults(&s); return &s }},
	{"watch", func() any { s := watch.DefaultSettings; return &s }},
	{"forecast", func() any { s := forecast.DefaultSettings; return &s }},
}

// ConfigError is a problem with a configuration: the file, line and key,
// or the flag, and what is wrong. Its Error method gives one line:
//
//	serve.toml:12: input.web.size: 0 is below the minimum 1 (allowed 1 to 4294967295)
//	--commit-interval=0s: service.commit_interval: 0s is below the minimum 10ms ...
type ConfigError struct {
	File string // the configuration file; "" when the problem comes from a flag or none was read
	Line int    // line in File, from 1; 0 when not known
	Col  int    // column, for syntax errors
	Key  string // the dotted key, as a user writes it
	Flag string // the flag the value came from ("--listen=0.0.0.0:80"), when it came from one
	Msg  string
}

// Error formats the error as one line.
func (e *ConfigError) Error() string {
	var b strings.Builder
	switch {
	case e.Flag != "":
		b.WriteString(e.Flag)
	case e.Line > 0 && e.Col > 0:
		fmt.Fprintf(&b, "%s:%d:%d", e.File, e.Line, e.Col)
	case e.Line > 0:
		fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File)
	default:
		b.WriteString("configuration")
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return param.OneLine(b.String())
}

// fieldError turns a param error into a *ConfigError of file, naming the
// flag of an assignment that came from one.
func fieldError(file string, fe param.FieldError) *ConfigError {
	e := &ConfigError{File: file, Line: fe.Line, Key: fe.Path, Msg: cmp.Or(fe.Msg, "invalid value")}
	if fe.Syntax {
		e.Col = fe.Col
	}
	if fe.Set != "" {
		e.File, e.Line = "", 0
		e.Flag = setFlag(fe.Set)
	}
	return e
}

// setFlag returns the flag an assignment "table.key=value" came from:
// "--key=value".
func setFlag(set string) string {
	key, val, _ := strings.Cut(set, "=")
	for _, fs := range FlagSets {
		if k, ok := strings.CutPrefix(key, fs.Table+"."); ok {
			return paramcli.FlagName(k) + "=" + val
		}
	}
	return "--set " + set
}

// ParseInputFlag reads the value of --follow (kind log), --zeek (zeek) or
// --pcap (pcap): PATH, optionally followed by options separated by
// commas, PATH,name=web,sensor=dmz,size=1,format=combined. A path that
// holds a comma followed by one of these keys and = must be given in a
// configuration file.
func ParseInputFlag(kind InputKind, value string) (Input, error) {
	k, err := inputKinds.Get(kind)
	if err != nil {
		return Input{}, &ConfigError{Msg: err.Error()}
	}
	in := Input{Kind: kind, Size: 1, Format: "auto", flag: "--" + k.flag + " " + value}
	parts := strings.Split(value, ",")
	path := parts[0]
	i := 1
	for ; i < len(parts); i++ {
		k, _, ok := strings.Cut(parts[i], "=")
		if !ok || !slices.Contains([]string{"name", "sensor", "size", "format"}, k) {
			path += "," + parts[i] // a comma of the path
			continue
		}
		break
	}
	in.Path = path
	for _, p := range parts[i:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return in, &ConfigError{Flag: in.flag, Msg: fmt.Sprintf("%q: want key=value (name, sensor, size or format) after the path", p)}
		}
		if err := param.Set(&in, k, v); err != nil {
			return in, &ConfigError{Flag: in.flag, Key: k, Msg: err.Error()}
		}
	}
	if in.Path == "" {
		return in, &ConfigError{Flag: in.flag, Msg: "no path"}
	}
	return in, nil
}

// deriveNames fills the inputs' names and sensors left empty: the name
// from the file name (access.log: access; - : stdin), the sensor from the
// name.
func deriveNames(ins []Input) {
	for i := range ins {
		in := &ins[i]
		if in.Name == "" {
			base := filepath.Base(filepath.Clean(in.Path))
			if in.Path == "-" {
				base = "stdin"
			}
			if ext := filepath.Ext(base); ext != base {
				base = strings.TrimSuffix(base, ext)
			}
			in.Name = names.Sanitize(base)
		}
		if in.Sensor == "" {
			in.Sensor = in.Name
		}
	}
}
