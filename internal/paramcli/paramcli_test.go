package paramcli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"wormwatch/internal/param"
)

// state is a parameter struct of every kind paramcli supports.
type state struct {
	When   time.Time      `toml:"when" default:"2001-07-29T00:00:00Z" doc:"when it holds"`
	Later  time.Time      `toml:"later" doc:"not set by default"`
	Share  float64        `toml:"share" default:"0.25" min:"0" max:"1" doc:"a share"`
	Zero   float64        `toml:"zero_value" doc:"zero by default"`
	Delay  param.Duration `toml:"delay" default:"2h" min:"1ns" max:"366d" doc:"a delay"`
	Count  int            `toml:"count" default:"3" doc:"a count"`
	Name   string         `toml:"name" default:"crv2" doc:"a name"`
	On     bool           `toml:"on" doc:"a switch"`
	hidden int
}

func newFlags(t *testing.T) (*pflag.FlagSet, *Flags, *state) {
	t.Helper()
	var d state
	param.Defaults(&d)
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	return fs, Register(fs, &d), &d
}

func TestRegister(t *testing.T) {
	fs, _, d := newFlags(t)
	if d.hidden != 0 {
		t.Error("Register changed the struct")
	}
	for name, want := range map[string]string{"when": "2001-07-29T00:00:00Z", "later": "", "share": "0.25", "zero-value": "0", "delay": "2h", "count": "3", "name": "crv2", "on": "false"} {
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("no flag --%s", name)
			continue
		}
		if f.DefValue != want {
			t.Errorf("--%s: default %q, want %q", name, f.DefValue, want)
		}
	}
	if fs.Lookup("hidden") != nil {
		t.Error("an unexported field became a flag")
	}
	usage := fs.FlagUsages()
	for _, want := range []string{"--share float", "a share (default 0.25)", "--delay duration", "a delay (default 2h)", "--when time", "--later time         not set by default\n"} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q:\n%s", want, usage)
		}
	}
}

func TestSetAndApply(t *testing.T) {
	fs, fl, _ := newFlags(t)
	if err := fs.Parse([]string{"--share", ".5", "--delay", "2d12h", "--when", "2001-08-01T02:00:00+02:00", "--count", "7", "--on"}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(fl.Assignments(), " "), "when=2001-08-01T02:00:00+02:00 share=0.5 delay=2d12h count=7 on=true"; got != want {
		t.Errorf("assignments %q, want %q", got, want)
	}
	var s state
	l := param.NewLoader(&s)
	if err := fl.Apply(l); err != nil {
		t.Fatal(err)
	}
	if !s.When.Equal(time.Date(2001, 8, 1, 0, 0, 0, 0, time.UTC)) || s.Share != 0.5 || s.Delay.D() != 60*time.Hour || s.Count != 7 || s.Name != "crv2" || !s.On {
		t.Errorf("applied %+v", s)
	}
	// Bounds are not a matter of syntax: Validate finds them.
	fs, fl, _ = newFlags(t)
	if err := fs.Parse([]string{"--share", "2"}); err != nil {
		t.Fatal(err)
	}
	l = param.NewLoader(&s)
	if err := fl.Apply(l); err != nil {
		t.Fatal(err)
	}
	if errs := l.Validate(); len(errs) != 1 || errs[0].Path != "share" || errs[0].Set != "share=2" {
		t.Errorf("validate: %v", errs)
	}
}

func TestSetErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--share", "many"}, `invalid argument "many" for "--share" flag: strconv.ParseFloat: parsing "many": invalid syntax`},
		{[]string{"--share", "inf"}, `invalid argument "inf" for "--share" flag: want a finite number`},
		{[]string{"--delay", "3 days"}, `invalid argument "3 days" for "--delay" flag: duration "3 days": want a number with a unit`},
		{[]string{"--when", "tomorrow"}, `invalid argument "tomorrow" for "--when" flag: want a date-time like 2001-07-19T10:00:00Z, got "tomorrow"`},
		{[]string{"--count", "1.5"}, `invalid argument "1.5" for "--count" flag: want an integer`},
	} {
		fs, _, _ := newFlags(t)
		err := fs.Parse(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

func TestMarshalJSON(t *testing.T) {
	var s state
	param.Defaults(&s)
	b, err := MarshalJSON(&s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"when":"2001-07-29T00:00:00Z","later":null,"share":0.25,"zero_value":0,"delay_seconds":7200,"count":3,"name":"crv2","on":false}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if !json.Valid(b) {
		t.Error("not valid JSON")
	}
}

func TestKeysAndFlagName(t *testing.T) {
	if got := strings.Join(Keys(new(state)), ","); got != "when,later,share,zero_value,delay,count,name,on" {
		t.Errorf("keys %s", got)
	}
	if got := FlagName("unpatched_share"); got != "--unpatched-share" {
		t.Errorf("FlagName: %s", got)
	}
}

func TestNotScalar(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a table field did not panic")
		}
	}()
	type withTable struct {
		Inner struct {
			X int `toml:"x"`
		} `toml:"inner"`
	}
	Register(pflag.NewFlagSet("t", pflag.ContinueOnError), new(withTable))
}

func TestDurationVar(t *testing.T) {
	var d time.Duration
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	DurationVar(fs, &d, "horizon", 12*time.Hour, "how far")
	if d != 12*time.Hour || fs.Lookup("horizon").DefValue != "12h" {
		t.Errorf("default %s, shown %q", d, fs.Lookup("horizon").DefValue)
	}
	if !strings.Contains(fs.FlagUsages(), "--horizon duration   how far (default 12h)") {
		t.Errorf("usage %q", fs.FlagUsages())
	}
	for text, want := range map[string]time.Duration{"90m": 90 * time.Minute, "2d12h": 60 * time.Hour, "-1h": -time.Hour, "1h30m0s": 90 * time.Minute, "+5s": 5 * time.Second, "0": 0} {
		if err := fs.Set("horizon", text); err != nil || d != want {
			t.Errorf("--horizon %s: %s, %v; want %s", text, d, err, want)
		}
	}
	if err := fs.Parse([]string{"--horizon", "3 days"}); err == nil || !strings.Contains(err.Error(), `invalid argument "3 days" for "--horizon" flag: duration "3 days": want a number with a unit`) {
		t.Errorf("error %v", err)
	}
}
