package study

import (
	"context"
	"fmt"
	"time"

	"wormwatch/forecast"
	"wormwatch/ipv4"
	"wormwatch/pool"
	"wormwatch/sensor"
	"wormwatch/sim"
)

// built is a series being built bin by bin, and its filter.
type built struct {
	size    uint64
	union   *pool.Union // the exact union of its sensors' probes; nil for a sum
	sensors []int       // its sensors, by index in the run's
	parts   []*built    // the series summed (pool.Sum), when union is nil
	last    pool.Row    // the row of the bin just closed
	mon     *forecast.Monitor
}

// pooled is a pool being built: the exact union of its members' probes,
// the sum of their series, and the members.
type pooled struct {
	count, index  int
	exact, summed *built
	members       []*built
}

// builder feeds the run's probes, bin by bin, to the members' and pools'
// unions, and their rows to the filters.
type builder struct {
	srcs    [][]uint32 // per sensor: the sources of its probes, in time order
	offs    [][]int32  // per sensor: where each bin's probes start in srcs (one more than the bins)
	members []*built
	pools   []pooled // by count, then index
	series  []*built // every series to close, the members first (sums read their rows)

	sp    ipv4.Space
	start time.Time
	ivl   time.Duration
	opt   forecast.Options
}

func newBuilder(res *sim.Result, members []Member, cfg Config) (*builder, error) {
	b := &builder{sp: ipv4.Space{Bits: res.SpaceBits}, start: res.Start, ivl: time.Duration(res.BinSeconds * float64(time.Second)), opt: cfg.Forecast}
	b.opt.SpaceBits = res.SpaceBits
	per := 1 + cfg.Slash24
	if len(res.Sensors) != len(members)*per {
		return nil, fmt.Errorf("seed %d: %d sensors in the run, want %d", res.Seed, len(res.Sensors), len(members)*per)
	}
	for j, s := range res.Sensors {
		if want := members[j/per].SensorName(j % per); s.Name != want || !s.Records {
			return nil, fmt.Errorf("seed %d: sensor %d is %s (recording %v), want %s recording", res.Seed, j, s.Name, s.Records, want)
		}
		srcs, offs := binned(s.Probes, res.BinSeconds, len(res.Bins))
		b.srcs, b.offs = append(b.srcs, srcs), append(b.offs, offs)
	}
	for i := range members {
		m, err := b.union(fmt.Sprintf("member-%d", i), members[i:i+1], i*per)
		if err != nil {
			return nil, err
		}
		b.members = append(b.members, m)
	}
	for _, n := range cfg.Counts {
		for g := range len(members) / n {
			p := pooled{count: n, index: g, members: b.members[g*n : (g+1)*n]}
			if n == 1 {
				p.exact, p.summed = p.members[0], p.members[0] // a pool of one is the member
				b.pools = append(b.pools, p)
				continue
			}
			var err error
			name := fmt.Sprintf("pool-%d-%d", n, g)
			if p.exact, err = b.union(name, members[g*n:(g+1)*n], g*n*per); err != nil {
				return nil, err
			}
			if p.summed, err = b.sum(name+"-sum", p.members); err != nil {
				return nil, err
			}
			b.pools = append(b.pools, p)
		}
	}
	return b, nil
}

// union adds the exact union of the members' telescopes: the run's
// sensors from index first on.
func (b *builder) union(name string, members []Member, first int) (*built, error) {
	var blocks []pool.Block
	for _, m := range members {
		bl, err := m.blocks(b.sp)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, bl...)
	}
	u, err := pool.NewUnion(blocks, b.start, b.ivl)
	if err != nil {
		return nil, err
	}
	x := &built{size: u.Size(), union: u}
	for j := range blocks {
		x.sensors = append(x.sensors, first+j)
	}
	return x, b.monitor(name, x)
}

// sum adds the sum of the parts' series (pool.Sum).
func (b *builder) sum(name string, parts []*built) (*built, error) {
	x := &built{parts: parts}
	for _, p := range parts {
		x.size += p.size
	}
	return x, b.monitor(name, x)
}

// monitor gives x its filter and adds it to the series to close.
func (b *builder) monitor(name string, x *built) error {
	mon, err := forecast.NewMonitor(name, x.size, b.ivl, b.opt)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	x.mon = mon
	b.series = append(b.series, x)
	return nil
}

// bin closes bin i of every series, and gives its row to the series'
// filter.
func (b *builder) bin(ctx context.Context, i int) error {
	for _, x := range b.series {
		if x.union != nil {
			for j, s := range x.sensors {
				x.union.Add(j, b.srcs[s][b.offs[s][i]:b.offs[s][i+1]]...)
			}
			x.last = x.union.Close()
		} else {
			rows := make([][]pool.Row, len(x.parts))
			for j, p := range x.parts {
				rows[j] = []pool.Row{p.last}
			}
			sum, err := pool.Sum(rows...)
			if err != nil {
				return err
			}
			x.last = sum[0]
		}
		if _, err := x.mon.Add(ctx, x.last); err != nil {
			return err
		}
	}
	return nil
}

// binned returns the sources of probes (in time order) and where each of
// nbins bins of width w starts among them. A probe at s seconds is in bin
// b when b w <= s < (b+1) w, computed as the engine computes the bounds
// (float64(b) * w), so that the bins hold the probes the engine counted
// in them.
func binned(probes []sensor.Probe, w float64, nbins int) ([]uint32, []int32) {
	srcs := make([]uint32, len(probes))
	offs := make([]int32, nbins+1)
	b := 0
	for i, p := range probes {
		srcs[i] = p.Src
		for b < nbins-1 && p.Seconds >= float64(b+1)*w {
			b++
			offs[b] = int32(i)
		}
	}
	for b++; b <= nbins; b++ {
		offs[b] = int32(len(probes))
	}
	return srcs, offs
}
