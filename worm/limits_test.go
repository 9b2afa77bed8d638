package worm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"wormwatch/internal/param"
	"wormwatch/ipv4"
)

// TestRateClasses checks RateClasses against every address of a 16-bit
// space: the distinct pairs of rate and acceptance over all of them.
func TestRateClasses(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	sp := ipv4.Space{Bits: 16}
	for trial := range 20 {
		var p Params
		param.Defaults(&p)
		p.Name = "w"
		p.Targeting.Strategy = []Strategy{"local", "uniform"}[trial%2]
		p.Rate.ThreadsChinese = 600
		for range r.IntN(30) {
			bits := 8 + r.IntN(9)
			a := r.Uint32N(1<<16) << 16
			a &^= (1<<(32-bits) - 1)
			p.Targeting.Exclude = append(p.Targeting.Exclude, fmt.Sprintf("%d.%d.%d.%d/%d", a>>24, a>>16&255, a>>8&255, a&255, bits))
		}
		v, err := Compile(0, p, sp, time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC), 0.03)
		if err != nil {
			t.Fatal(err)
		}
		type class struct{ rate, z float64 }
		all := map[class]bool{}
		for a := range uint32(1 << 16) {
			for lang := range uint8(3) {
				all[class{v.Rate(lang), v.Acceptance(a)}] = true
			}
		}
		got := v.RateClasses(1000)
		// Without a local part, RateClasses bounds the count (2 per rate).
		if p.Targeting.Strategy == "local" && got != len(all) || got < len(all) {
			t.Errorf("trial %d (%s, %d excluded): RateClasses %d, every address gives %d", trial, p.Targeting.Strategy, len(p.Targeting.Exclude), got, len(all))
		}
	}
}

// TestCyclicEverySpace checks that the permutation walk can be built for
// every space a scenario allows: NewCyclic's search for a prime depends on
// the space's bits only, so this is why scenario validation need not make it.
func TestCyclicEverySpace(t *testing.T) {
	t.Parallel()
	for bits := 16; bits <= 32; bits++ {
		if _, err := NewCyclic(bits, rand.New(rand.NewPCG(uint64(bits), 1))); err != nil {
			t.Errorf("%d bits: %v", bits, err)
		}
	}
}
