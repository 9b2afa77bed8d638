// Package pool builds the sensor series of a union of sensors: the
// alliance's members' telescopes seen as one telescope. It is on the data
// side (it never imports the engine), so that the live service can pool
// its members' sensors with it as the study of `wormwatch pool` does.
//
// # The exact union, from probes
//
// A Union takes the probes of its sensors interval by interval (Add, then
// Close; or AddAt with times, for records that come in time order) and
// counts, per interval, what one sensor watching all the blocks would
// count (the columns of a sensor series, docs/output.md): the probes, the
// distinct sources, the sources seen for the first time by any of the
// union's sensors, and the cumulative sources. A source is its address:
// two sensors that see the same address see one source. The union's size
// is the sum of its blocks' sizes, and the blocks must be disjoint
// (NewUnion refuses an overlap, which would count addresses twice).
//
// # From series alone
//
// Without the sources' addresses (members that share only their series)
// the union cannot be counted exactly. The probes add up exactly (the
// blocks are disjoint), but a source seen by two sensors is in both
// series. Sum adds the series column by column: it is the estimator this
// package uses, and an upper bound of the union's sources, new sources
// and cumulative sources, exact when no source is seen by two sensors
// (within an interval for sources; ever for new and cumulative sources).
// Lower is the matching lower bound (each column's largest over the
// sensors, the new sources taken from the cumulative ones). For a worm
// that scans at random, a source is seen within one interval by a small
// block with a small probability, so Sum's sources are close to the
// union's; over hours most sources reach every block of a /16, and Sum's
// cumulative sources approach the number of sensors times the union's
// (the tests measure both errors).
package pool
