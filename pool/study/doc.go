// Package study runs the study of `wormwatch pool`: how much earlier an
// alliance's pooled telescopes raise the early-warning alarm, and how
// much better they estimate the vulnerable population N, than each
// member's own (docs/share.md, "Pooled sensors").
//
// Each seed is one run of the scenario in which the members' telescopes
// replace its sensors: each member watches a /16 and Config.Slash24 /24s,
// drawn at random from the seed (Place: disjoint, outside the IANA
// special-purpose ranges), every telescope capturing every probe over the
// whole run. A run has as many members as the largest of Config.Counts;
// for each count n the members are split, in order, into pools of n
// (members 0 to n-1, n to 2n-1, ...; the rest, if n does not divide the
// members, are in no pool of n). Package pool builds, bin by bin, each
// member's series (the union of its own telescopes) and each pool's (the
// union of its members' telescopes), both exactly from the probes, and
// each pool's sum of its members' series (pool.Sum: what the members'
// series alone give); forecast's filter (a Monitor, as `wormwatch serve`
// runs it) takes every row as it closes.
//
// The truth the estimates are compared with comes from the run: N is the
// hosts susceptible or infected at that time, K the measured probe rate
// of a scanning host times N over the addresses of the space (the
// logistic model's growth rate, which forecast's filter estimates). A
// pool's estimates, and those of its members and of its sum, are read at
// the pool's alarm and at Config.After after it.
//
// A telescope's state in the engine is about 18 MB at 360,000 hosts,
// whatever its size, and a /16 receives about 530,000 of Code Red v2's
// probes on 19 July (24 bytes each): a run of 20 members with two /24s
// each (60 telescopes) peaks near 2.5 GB and takes about 20 s of CPU.
package study
