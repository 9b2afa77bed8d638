package worm

import (
	"fmt"
	"strings"

	"wormwatch/ipv4"
)

// Limits of the engine on the variants of one run. Scenario validation
// checks them, so that a scenario it accepts never meets them at run time.
const (
	// MaxVariants is the most worm variants of a run: the engine keeps a
	// host's variant in one byte.
	MaxVariants = 256
	// MaxTargetGroups is the most target groups (see GroupKey) among the
	// variants of a run: the engine keeps a host's groups as bits of one
	// byte.
	MaxTargetGroups = 8
	// MaxRateClasses is the most rate classes of one variant: the distinct
	// pairs of a host's probe rate and its acceptance (see Acceptance).
	MaxRateClasses = 255
)

// GroupKey identifies the hosts the variant can target: the OS classes it
// infects and the ranges it excludes. Variants with the same key share the
// engine's sets of susceptible hosts.
func (v *Variant) GroupKey() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v", v.Infects)
	for _, r := range v.Exclude.List() {
		fmt.Fprintf(&b, " %d-%d", r.Lo, r.Hi)
	}
	return b.String()
}

// RateClasses returns how many rate classes the hosts of v can fall in,
// over every address of the space (at most limit+1: counting stops
// there). A class is a distinct pair of probe rate (one per language and
// number of awake wake groups at most) and acceptance Z; Z depends on a host's /8 and /16 and on whether
// its own address is excluded, so without excluded ranges there is one Z.
func (v *Variant) RateClasses(limit int) int {
	rates := map[float64]bool{}
	for lang := range v.rate {
		rates[v.rate[lang]] = true
		for _, r := range v.rateK[lang] { // hosts with some threads still asleep
			rates[r] = true
		}
	}
	if v.Exclude.Len() == 0 {
		return len(rates)
	}
	local := false
	for _, c := range v.Components {
		local = local || c.Level > 0
	}
	if !local {
		return 2 * len(rates) // Z of a host whose own address is excluded, or not
	}
	// Z depends on the host's /8 and /16 and on whether its own address is
	// excluded: hosts of a /8 without excluded addresses all have the
	// same Z, so only the /16s of the other /8s are visited.
	zs := map[float64]bool{}
	bits := v.Space.Bits
	size8, size16 := uint64(1)<<uint(bits-8), uint64(1)<<uint(bits-16)
	for b8 := range uint64(256) {
		r8 := ipv4.Range{Lo: b8 * size8, Hi: (b8 + 1) * size8}
		if v.Exclude.Overlap(r8) == 0 {
			zs[v.Acceptance(uint32(r8.Lo))] = true
			continue
		}
		for j := range uint64(256) {
			r := ipv4.Range{Lo: r8.Lo + j*size16, Hi: r8.Lo + (j+1)*size16}
			gaps := v.Exclude.Gaps(r)
			if len(gaps) > 0 {
				zs[v.Acceptance(uint32(gaps[0].Lo))] = true // an address not excluded
			}
			if v.Exclude.Overlap(r) > 0 {
				a := r.Lo // an excluded address: the first one not in a gap
				if len(gaps) > 0 && gaps[0].Lo == r.Lo {
					a = gaps[0].Hi
				}
				zs[v.Acceptance(uint32(a))] = true
			}
		}
		if len(zs)*len(rates) > limit {
			break
		}
	}
	return min(len(zs)*len(rates), limit+1)
}
