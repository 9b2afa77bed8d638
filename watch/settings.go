package watch

import (
	"fmt"
	"time"

	"wormwatch/detect"
	"wormwatch/forecast"
	"wormwatch/internal/param"
)

// Settings are the choices of the online analysis, each declared once with
// the tags of package param (key, default, bounds, doc), so that the
// service's configuration and its documentation can be generated from
// them. The rules the tags cannot say are Validate's.
type Settings struct {
	Interval param.Duration `toml:"interval" default:"1m" min:"1ms" max:"366d" doc:"width of the intervals of every series"`
	Lateness int            `toml:"lateness" default:"2" min:"1" max:"64" doc:"intervals kept open for records that come out of order: an interval closes when a record of an interval this many later arrives; older records are late"`
	Clear    param.Duration `toml:"clear" default:"30m" min:"0s" max:"366d" doc:"watching ends (quiet) after this long without a trend"`
	Subside  param.Duration `toml:"subside" default:"1h" min:"0s" max:"366d" doc:"an alarm subsides after this long without a trend"`
	Quiet    param.Duration `toml:"quiet" default:"1d" min:"0s" max:"366d" doc:"a subsiding alarm ends (quiet: the filter restarts on a new base) after this long more without a trend"`

	MaxSeries  int   `toml:"max_series" default:"4096" min:"1" max:"1000000" doc:"series kept at most (sensors times families and ports); a record that would add one more is refused"`
	MaxSources int64 `toml:"max_sources" default:"10000000" min:"1" max:"1000000000" doc:"distinct sources kept at most over all sensors; a record of one more is refused"`
}

// DefaultSettings are the defaults the tags of Settings declare.
var DefaultSettings = defaultSettings()

func defaultSettings() Settings {
	var s Settings
	param.Defaults(&s)
	return s
}

// Validate reports the first setting out of range, naming its key.
func (s *Settings) Validate() error {
	if errs := param.Validate(s); len(errs) > 0 {
		return fmt.Errorf("%s: %s", errs[0].Path, errs[0].Msg)
	}
	return nil
}

// intervals returns how many intervals of width ivl d spans, rounded up,
// at least 1.
func intervals(d param.Duration, ivl time.Duration) int {
	n := (d.D() + ivl - 1) / ivl
	return int(max(n, 1))
}

// MaxSensors is the most sensors a Watch takes.
const MaxSensors = 1024

// Config is what a Watch is made of: its settings, the filter's options
// for every series, the names of the signature families (those of the
// detect.Matcher whose indices Add is given) and the classifier that says
// which series a record counts in.
type Config struct {
	Settings Settings         // the zero value: DefaultSettings
	Forecast forecast.Options // the early-warning filter's options (the zero value: forecast's defaults)
	Families []string         // the family names, in the order of detect.Matcher.Families
	Classify Classifier       // nil: ByFamily
}

// Classifier appends to dst the classes of the series of its sensor that a
// record counts in and returns dst: the extension point for what detect's
// records will carry. fams are the indices of the families the record
// matched (into Config.Families), increasing. A record with no class only
// moves its sensor's clock. A classifier must be a pure function of its
// arguments (the state restored from a snapshot assumes the same one).
type Classifier func(rec *detect.Record, fams []int, dst []Class) []Class

// ByFamily is the default classifier. A request that matched families
// counts in its sensor's series of every counted record (All) and in the
// series of each family it matched; a connection attempt (detect's
// Record.Attempt: a SYN in a capture, a Zeek conn.log entry) counts in
// All and in the series of its transport and destination port (a
// telescope's view: every attempt into dark space is unsolicited). A
// request that matched nothing only moves the sensor's clock.
func ByFamily(rec *detect.Record, fams []int, dst []Class) []Class {
	if rec.Attempt {
		return append(dst, AllClass, PortClass(uint8(rec.Transport), rec.DstPort))
	}
	if len(fams) == 0 {
		return dst
	}
	dst = append(dst, AllClass)
	for _, f := range fams {
		dst = append(dst, FamilyClass(f))
	}
	return dst
}

// Kind is what a series of a sensor counts.
type Kind uint8

// The kinds of series.
const (
	All    Kind = iota // every record of the sensor a classifier counted
	Family             // the records that matched one signature family
	Port               // the connection attempts to one transport and destination port
)

// String returns "all", "family" or "port".
func (k Kind) String() string {
	switch k {
	case All:
		return "all"
	case Family:
		return "family"
	case Port:
		return "port"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Class is a series of a sensor: its kind and, for a family, the family's
// index (into Config.Families), for a port, the transport (detect.Transport:
// 1 TCP, 2 UDP) times 65536 plus the port.
type Class struct {
	Kind Kind
	ID   uint32
}

// AllClass is the class of a sensor's series of every counted record.
var AllClass = Class{Kind: All}

// FamilyClass returns the class of the series of family i.
func FamilyClass(i int) Class { return Class{Kind: Family, ID: uint32(i)} }

// PortClass returns the class of the series of the connection attempts to
// a transport (a detect.Transport: 1 TCP, 2 UDP) and a destination port.
func PortClass(transport uint8, port uint16) Class {
	return Class{Kind: Port, ID: uint32(transport)<<16 | uint32(port)}
}

// Key names a series: its sensor, its class, and the class's name (the
// family's name; "tcp/80" for a port; empty for All).
type Key struct {
	Sensor string
	Class  Class
	Name   string
}

// String returns "SENSOR" for All, "SENSOR/family/NAME" or
// "SENSOR/port/tcp/80".
func (k Key) String() string {
	if k.Class.Kind == All {
		return k.Sensor
	}
	return k.Sensor + "/" + k.Class.Kind.String() + "/" + k.Name
}

// className returns the name of class c under the family names fams.
func className(c Class, fams []string) (string, error) {
	switch c.Kind {
	case All:
		if c.ID != 0 {
			return "", fmt.Errorf("class all with id %d", c.ID)
		}
		return "", nil
	case Family:
		if int64(c.ID) >= int64(len(fams)) {
			return "", fmt.Errorf("family index %d out of range (%d families)", c.ID, len(fams))
		}
		return fams[c.ID], nil
	case Port:
		tr := detect.Transport(c.ID >> 16).String()
		if tr == "" {
			tr = "transport" + fmt.Sprint(c.ID>>16)
		}
		if c.ID>>16 > 255 {
			return "", fmt.Errorf("port class id %d out of range", c.ID)
		}
		return fmt.Sprintf("%s/%d", tr, c.ID&0xffff), nil
	}
	return "", fmt.Errorf("unknown series kind %d", c.Kind)
}
