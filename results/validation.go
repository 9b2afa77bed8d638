package results

import (
	"encoding/json"
	"math"
	"time"
)

// Validation puts the published figures beside the simulation.
type Validation struct {
	Checks   []Check
	Logistic Logistic
	Traffic  []Quantity
	// Restart is what the replay predicts for the restart of 1 August
	// 2001 (codered-2001 is calibrated on July figures only, so these
	// are out-of-sample: held against measurements of that day, they
	// validate the model).
	Restart []Quantity
}

// Check is one published figure beside the simulated median and 90% band.
type Check struct {
	Name     string  `json:"name"`
	Source   string  `json:"source"`
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit"`
	P05      float64 `json:"sim_p05"`
	P50      float64 `json:"sim_p50"`
	P95      float64 `json:"sim_p95"`
	Inside   bool    `json:"inside"` // the measured value lies within [P05, P95]
	Note     string  `json:"note,omitempty"`
}

// Logistic is the random-constant-spread fit a(t) = e^{K(t-T)}/(1+e^{K(t-T)})
// to the telescope's cumulative sources on the outbreak day, per seed.
type Logistic struct {
	Series         string       `json:"series"`
	KPerHour       [3]float64   `json:"k_per_hour"` // p05, p50, p95 over seeds
	T              [3]time.Time `json:"t"`          // midpoint, p05, p50, p95
	PublishedKLow  float64      `json:"published_k_low"`
	PublishedKHigh float64      `json:"published_k_high"`
	Source         string       `json:"source"`
}

// Quantity is a simulated figure with no published counterpart to check
// against (total probes, peak packet and bit rates, flood bytes).
type Quantity struct {
	Name string  `json:"name"`
	Unit string  `json:"unit"`
	P05  float64 `json:"p05"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Note string  `json:"note,omitempty"`
}

// ValidationReport is validation.json (docs/output.md): the validation of
// a replay with the scenario, seeds and version it was made with.
type ValidationReport struct {
	Scenario string     `json:"scenario"`
	Seeds    []uint64   `json:"seeds"`
	Version  string     `json:"version"`
	Checks   []Check    `json:"checks"`
	Logistic Logistic   `json:"logistic"`
	Traffic  []Quantity `json:"traffic"`
	Restart  []Quantity `json:"restart,omitempty"`
}

// ParseValidation decodes the validation.json named name from data. A
// file that is not JSON, has a value of the wrong type or lacks the keys
// scenario or seeds is an *Error naming the line or key.
func ParseValidation(data []byte, name string) (*ValidationReport, error) {
	var v ValidationReport
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, JSONError(name, data, err)
	}
	var keys struct {
		Scenario *string `json:"scenario"`
	}
	if json.Unmarshal(data, &keys) != nil || keys.Scenario == nil {
		return nil, errorf(name, "key scenario is missing")
	}
	if len(v.Seeds) == 0 {
		return nil, errorf(name, "key seeds is missing or empty")
	}
	return &v, nil
}

// num is a float for JSON: NaN (a figure no seed produced) is written as null.
type num float64

// MarshalJSON implements json.Marshaler.
func (x num) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(x))
}

// MarshalJSON writes a check; figures no seed produced are null.
func (c Check) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name     string `json:"name"`
		Source   string `json:"source"`
		Measured num    `json:"measured"`
		Unit     string `json:"unit"`
		P05      num    `json:"sim_p05"`
		P50      num    `json:"sim_p50"`
		P95      num    `json:"sim_p95"`
		Inside   bool   `json:"inside"`
		Note     string `json:"note,omitempty"`
	}{c.Name, c.Source, num(c.Measured), c.Unit, num(c.P05), num(c.P50), num(c.P95), c.Inside, c.Note})
}

// MarshalJSON writes a quantity; figures no seed produced are null.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name string `json:"name"`
		Unit string `json:"unit"`
		P05  num    `json:"p05"`
		P50  num    `json:"p50"`
		P95  num    `json:"p95"`
		Note string `json:"note,omitempty"`
	}{q.Name, q.Unit, num(q.P05), num(q.P50), num(q.P95), q.Note})
}
