package notify

import (
	"cmp"
	"slices"
	"time"

	"wormwatch/internal/timespan"
)

// Notice is what one owner is told: its infected addresses and a summary.
type Notice struct {
	Owner               Owner
	Sources             []Source  // by address
	ASNs                []uint32  // per source, as Sources: the owner table's AS number, 0 when not known
	FirstSeen, LastSeen time.Time // over the sources
	Count               int64     // requests over the sources
	Families            []string  // every family of the sources, sorted
	Reporters           []string  // every reporter of the sources, sorted
}

// Left is what Plan left out, by reason.
type Left struct {
	Unowned        int64 `json:"unowned"`          // addresses no owner is known to hold
	OptedOut       int64 `json:"opted_out"`        // addresses in an opted-out prefix
	OptedOutOwners int   `json:"opted_out_owners"` // owners (or their contacts) that opted out
	OptedOutAddrs  int64 `json:"opted_out_addrs"`  // the addresses of those owners
	OtherFamilies  int64 `json:"other_families"`   // addresses none of whose families were asked for
}

// PlanOptions are Plan's choices.
type PlanOptions struct {
	OptOut   *OptOut  // owners, contacts and prefixes never told; nil: none
	Families []string // tell only of these families; nil: of every family
}

// Plan merges the sources of each address (IPv4-mapped IPv6 as IPv4,
// which Plan writes back into sources),
// finds the owner of each, leaves out what opt.OptOut names, and returns
// one Notice per owner, ordered by the owner's Key, with what it left out.
func Plan(sources []Source, owners *Owners, opt PlanOptions) ([]Notice, Left) {
	sources = merge(sortedByAddr(sources))
	in := &interner{}
	ownerOf, asnOf, left := assign(sources, owners, opt, in)
	// Gather the sources by owner: a counting sort keeps them in address
	// order.
	perOwner := make([]int, owners.Len()+1)
	for _, o := range ownerOf {
		if o >= 0 {
			perOwner[o+1]++
		}
	}
	for o := range owners.Len() {
		perOwner[o+1] += perOwner[o]
	}
	order := make([]int32, perOwner[owners.Len()])
	next := slices.Clone(perOwner[:owners.Len()])
	for i, o := range ownerOf {
		if o >= 0 {
			order[next[o]] = int32(i)
			next[o]++
		}
	}
	var out []Notice
	// The notices' sources and AS numbers: one slice each, in owner order.
	all, asns := make([]Source, len(order)), make([]uint32, len(order))
	for o := range owners.Len() {
		lo, hi := perOwner[o], perOwner[o+1]
		if lo == hi {
			continue
		}
		ow := owners.Owner(o)
		if opt.OptOut.Owner(ow) {
			left.OptedOutOwners++
			left.OptedOutAddrs += int64(hi - lo)
			continue
		}
		n := Notice{Owner: *ow, Sources: all[lo:hi:hi], ASNs: asns[lo:hi:hi]}
		out = append(out, fill(n, sources, asnOf, order[lo:hi], in))
	}
	slices.SortFunc(out, func(a, b Notice) int { return cmp.Compare(a.Owner.Key, b.Owner.Key) })
	return out, left
}

// assign finds the owner of each source (-1: none, or left out) and the
// AS number of its table entry, leaving out the families not asked for and
// the opted-out prefixes.
func assign(sources []Source, owners *Owners, opt PlanOptions, in *interner) (ownerOf []int32, asnOf []uint32, left Left) {
	ownerOf, asnOf = make([]int32, len(sources)), make([]uint32, len(sources))
	for i := range sources {
		s := &sources[i]
		ownerOf[i] = -1
		if opt.Families != nil {
			if s.Families = in.of(intersect(s.Families, opt.Families)); len(s.Families) == 0 {
				left.OtherFamilies++
				continue
			}
		}
		if opt.OptOut.Addr(s.Addr) {
			left.OptedOut++
			continue
		}
		o, asn, ok := owners.Lookup(s.Addr)
		if !ok {
			left.Unowned++
			continue
		}
		ownerOf[i], asnOf[i] = int32(o), asn
	}
	return ownerOf, asnOf, left
}

// sortedByAddr returns the sources sorted by address (IPv4-mapped IPv6 as
// IPv4, zones dropped), those of one address in their given order: a
// radix sort of their keys, then one copy.
func sortedByAddr(sources []Source) []Source {
	ords := make([]ord, len(sources))
	for i := range sources {
		sources[i].Addr = sources[i].Addr.Unmap().WithZone("")
		ords[i] = ord{keyOf(sources[i].Addr), uint32(i)} // 2^32 sources of 136 bytes are not held in memory
	}
	out := make([]Source, len(sources))
	for j, o := range radixSort(ords) {
		out[j] = sources[o.i]
	}
	return out
}

// ord is a source's key and index.
type ord struct {
	k key
	i uint32
}

// radixSort sorts ords by key, those of one key in their given order,
// and returns them (in ords or in a slice of its size): a stable
// least-significant-byte-first radix sort that skips the bytes every key
// shares (12 of the 16 when every address is IPv4). Written by hand: the
// standard library sorts by comparisons, about four times slower on a
// million addresses.
func radixSort(ords []ord) []ord {
	if len(ords) < 2 {
		return ords
	}
	var counts [16][256]int
	for i := range ords {
		k := &ords[i].k
		for b := range 8 {
			counts[b][byte(k.lo>>(8*b))]++
			counts[8+b][byte(k.hi>>(8*b))]++
		}
	}
	tmp := make([]ord, len(ords))
	first := &ords[0].k
	for pass := range 16 {
		hi, shift := pass >= 8, 8*uint(pass%8)
		byteOf := func(k *key) byte {
			if hi {
				return byte(k.hi >> shift)
			}
			return byte(k.lo >> shift)
		}
		c := &counts[pass]
		if c[byteOf(first)] == len(ords) {
			continue // every key has this byte
		}
		sum := 0
		for b := range c {
			c[b], sum = sum, sum+c[b]
		}
		for i := range ords {
			b := byteOf(&ords[i].k)
			tmp[c[b]] = ords[i]
			c[b]++
		}
		ords, tmp = tmp, ords
		first = &ords[0].k
	}
	return ords
}

// notice makes the notice of one owner from the sources at idx.
func notice(ow Owner, sources []Source, asnOf []uint32, idx []int32, in *interner) Notice {
	n := Notice{Owner: ow, Sources: make([]Source, len(idx)), ASNs: make([]uint32, len(idx))}
	return fill(n, sources, asnOf, idx, in)
}

// fill fills the notice of one owner, whose Sources and ASNs have room
// for them, from the sources at idx.
func fill(n Notice, sources []Source, asnOf []uint32, idx []int32, in *interner) Notice {
	var fams, reps []string
	for j, i := range idx {
		s := sources[i]
		n.Sources[j], n.ASNs[j] = s, asnOf[i]
		n.FirstSeen, n.LastSeen = timespan.Earlier(n.FirstSeen, s.FirstSeen), timespan.Later(n.LastSeen, s.LastSeen)
		n.Count += s.Count
		if j == 0 || !slices.Equal(s.Families, n.Sources[j-1].Families) {
			fams = append(fams, s.Families...)
		}
		if j == 0 || !slices.Equal(s.Reporters, n.Sources[j-1].Reporters) {
			reps = append(reps, s.Reporters...)
		}
	}
	n.Families, n.Reporters = in.of(fams), in.of(reps)
	return n
}

// intersect returns the names of a that are in b.
func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
