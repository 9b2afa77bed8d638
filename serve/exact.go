package serve

import (
	"fmt"
	"time"

	"wormwatch/pool"
)

// The exact pools: a pool whose sensors all push their sources
// ([[remote]] sources = true, their blocks disjoint, no lag) counts its
// rows with a pool.Union of their blocks, fed each interval with every
// sensor's sources of it: its sources, new sources and cumulative
// sources are those of one telescope watching all the blocks (a source
// two sensors saw is one source), where pool.Sum's are upper bounds. Its
// union starts at the pool's first row (its cumulative sources count from
// there). A restart feeds the union again with the sensors' committed
// sources of the pool's committed rows (restoreUnion), checking that they
// make those rows bit for bit.

// unionRow counts an exact pool's row of interval t (every sensor has its
// sources of t: the pool has no lag).
func (l *loop) unionRow(p *rowPool, t time.Time) (pool.Row, error) {
	if p.u == nil {
		u, err := pool.NewUnion(l.poolBlocks(p), t, p.ivl)
		if err != nil {
			return pool.Row{}, err
		}
		p.u = u
	}
	if open := p.u.Open(); !open.Equal(t) {
		return pool.Row{}, fmt.Errorf("pool %s: row %s, its union's open interval is %s", p.cfg.Name, t.UTC().Format(time.RFC3339), open.UTC().Format(time.RFC3339))
	}
	for i, m := range p.cfg.Sensors {
		rem := l.remote.byName[m]
		srcs, ok := rem.src.held[t.UnixNano()]
		if !ok {
			return pool.Row{}, fmt.Errorf("pool %s: sensor %s has no sources of %s", p.cfg.Name, m, t.UTC().Format(time.RFC3339))
		}
		for _, s := range srcs {
			if err := p.u.AddN(i, s.Src, s.Probes); err != nil {
				return pool.Row{}, err
			}
		}
	}
	return p.u.Close(), nil
}

// poolBlocks returns the blocks of an exact pool's sensors, in order, as
// the configuration the service started with gives them.
func (l *loop) poolBlocks(p *rowPool) []pool.Block { return p.blocks }

// restoreUnion rebuilds an exact pool's union from its sensors' committed
// sources of its restored rows, each row made again and checked.
func (l *loop) restoreUnion(p *rowPool) error {
	if !p.exact {
		return nil
	}
	for _, r := range p.rs.Rows() {
		got, err := l.unionRow(p, r.Time)
		if err != nil {
			return err
		}
		if !sameRow(got, pool.Row(r)) {
			return fmt.Errorf("pool %s: its sensors' stored sources of %s make %+v, its stored row is %+v", p.cfg.Name, r.Time.UTC().Format(time.RFC3339), got, r)
		}
	}
	return nil
}
