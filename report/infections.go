package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync"

	"github.com/parquet-go/parquet-go"

	"wormwatch/sim/outcome"
)

// InfectionColumns are the columns of infections.parquet, in order.
var InfectionColumns = []string{"time", "seconds", "address", "address_int", "infector", "variant", "backdoor"}

// infectionRow is one row of infections.parquet. Field order is column
// order and must match InfectionColumns (a test checks it). The address
// columns are byte slices into a per-chunk arena so that formatting ten
// million addresses allocates nothing per row; the "string" tag makes them
// UTF-8 strings in the file.
type infectionRow struct {
	Time       int64   `parquet:"time,timestamp(microsecond:utc),delta"`
	Seconds    float64 `parquet:"seconds"`
	Address    []byte  `parquet:"address,string"`
	AddressInt int64   `parquet:"address_int"`
	Infector   []byte  `parquet:"infector,string"`
	Variant    string  `parquet:"variant,dict"`
	Backdoor   bool    `parquet:"backdoor"`
}

const (
	// infectionRowGroup is the number of rows per row group of
	// infections.parquet: near DuckDB's own 122,880, large enough for
	// efficient scans, small enough that a row group being encoded holds
	// about 15 MB.
	infectionRowGroup = 1 << 17
	// maxInfectionWorkers bounds the goroutines encoding row groups, and so
	// memory (about 15 MB each) on machines with many cores.
	maxInfectionWorkers = 4
	// infectionChunk is how many rows are converted and handed to the
	// Parquet writer at a time.
	infectionChunk = 8192
	// maxDotted is the length of the longest dotted quad, 255.255.255.255.
	maxDotted = 15
)

// octets holds the decimal forms of 0..255, so that formatting an address
// is four table look-ups (netip.Addr.String allocates per address).
var octets = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// appendDotted appends the dotted-quad form of the IPv4 address v.
func appendDotted(dst []byte, v uint32) []byte {
	dst = append(dst, octets[v>>24]...)
	dst = append(dst, '.')
	dst = append(dst, octets[v>>16&0xff]...)
	dst = append(dst, '.')
	dst = append(dst, octets[v>>8&0xff]...)
	dst = append(dst, '.')
	return append(dst, octets[v&0xff]...)
}

// infectionSchema is the schema of infections.parquet, named after the file
// rather than the Go type.
var infectionSchema = parquet.NewSchema("infections", parquet.SchemaOf(new(infectionRow)))

// infectionEncodingOptions are the options that decide how the columns of
// infections.parquet are encoded. Row groups encoded apart with them are
// copied verbatim into the final file, so both sides must use the same.
func infectionEncodingOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		infectionSchema,
		parquet.Compression(snappyCodec),
		// Min/max of random addresses per page say nothing, and computing
		// them (string comparisons, through the dictionary for variant) took
		// about a quarter of the encoding time.
		parquet.SkipPageBounds("address"),
		parquet.SkipPageBounds("infector"),
		parquet.SkipPageBounds("variant"),
	}
}

func writeInfectionsParquet(w io.Writer, res *outcome.Result, version string) error {
	return writeInfections(w, res, version, min(runtime.GOMAXPROCS(0), maxInfectionWorkers), infectionRowGroup)
}

// writeInfections writes infections.parquet with up to workers goroutines.
//
// Encoding and compressing is most of the cost, and parquet-go's writer is
// sequential, so each row group of groupRows rows is encoded on its own, on
// a worker, into a small in-memory Parquet file; the row groups are then
// appended to w in order with WriteRowGroup, which copies a row group's
// compressed pages verbatim when the encodings match. At most workers+1 row
// groups are in memory at once, whatever the number of infections. The file
// does not depend on the number of workers.
func writeInfections(w io.Writer, res *outcome.Result, version string, workers, groupRows int) error {
	opts := append(parquetOptions(res, version), infectionEncodingOptions()...)
	opts = append(opts, parquet.MaxRowsPerRowGroup(int64(groupRows)))
	pw := parquet.NewGenericWriter[infectionRow](w, opts...)

	groups := (len(res.Infections) + groupRows - 1) / groupRows
	workers = max(1, min(workers, groups))
	type job struct {
		group int
		buf   *bytes.Buffer
	}
	type done struct {
		buf *bytes.Buffer
		err error
	}
	results := make([]chan done, groups)
	for g := range results {
		results[g] = make(chan done, 1)
	}
	free := make(chan *bytes.Buffer, workers+1)
	for range workers + 1 {
		free <- new(bytes.Buffer)
	}
	jobs := make(chan job)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // dispatcher: a job per row group, while buffers are free
		defer close(jobs)
		for g := range groups {
			var buf *bytes.Buffer
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			select {
			case jobs <- job{g, buf}:
			case <-stop:
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			enc := newGroupEncoder(res)
			for j := range jobs {
				lo := j.group * groupRows
				hi := min(lo+groupRows, len(res.Infections))
				results[j.group] <- done{j.buf, enc.encode(j.buf, res.Infections[lo:hi])}
			}
		})
	}
	err := func() error {
		for g := range groups {
			d := <-results[g]
			if d.err != nil {
				return d.err
			}
			f, err := parquet.OpenFile(bytes.NewReader(d.buf.Bytes()), int64(d.buf.Len()))
			if err != nil {
				return fmt.Errorf("reading back row group %d: %w", g, err)
			}
			for _, rg := range f.RowGroups() {
				if _, err := pw.WriteRowGroup(rg); err != nil {
					return err
				}
			}
			free <- d.buf
		}
		return nil
	}()
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	return pw.Close()
}

// groupEncoder encodes row groups of infections.parquet into stand-alone
// in-memory Parquet files, reusing its buffers from one group to the next.
type groupEncoder struct {
	res         *outcome.Result
	shift       uint
	startMicros int64 // res.Start in microseconds since 1970
	pw          *parquet.GenericWriter[infectionRow]
	rows        []infectionRow
	arena       []byte
}

func newGroupEncoder(res *outcome.Result) *groupEncoder {
	return &groupEncoder{
		res:         res,
		shift:       uint(32 - res.SpaceBits),
		startMicros: res.Start.UnixMicro(),
		pw:          parquet.NewGenericWriter[infectionRow](io.Discard, infectionEncodingOptions()...),
		rows:        make([]infectionRow, infectionChunk),
		arena:       make([]byte, 0, 2*maxDotted*infectionChunk),
	}
}

// encode writes infs as one row group of a Parquet file into buf.
func (e *groupEncoder) encode(buf *bytes.Buffer, infs []outcome.Infection) error {
	buf.Reset()
	e.pw.Reset(buf)
	for len(infs) > 0 {
		n := min(len(infs), infectionChunk)
		e.convert(infs[:n])
		if _, err := e.pw.Write(e.rows[:n]); err != nil {
			return err
		}
		infs = infs[n:]
	}
	return e.pw.Close()
}

// convert fills e.rows[:len(infs)] from infs; the address columns point
// into e.arena, valid until the next call.
func (e *groupEncoder) convert(infs []outcome.Infection) {
	arena := e.arena[:0]
	for i := range infs {
		in := &infs[i]
		r := &e.rows[i]
		r.Time = e.startMicros + int64(math.Round(in.Seconds*1e6))
		r.Seconds = in.Seconds
		start := len(arena)
		arena = appendDotted(arena, in.Address<<e.shift)
		r.Address = arena[start:len(arena):len(arena)]
		r.AddressInt = int64(in.Address)
		start = len(arena)
		if in.Infector != outcome.NoInfector {
			arena = appendDotted(arena, in.Infector<<e.shift)
		}
		r.Infector = arena[start:len(arena):len(arena)]
		r.Variant = e.res.Variants[in.Variant]
		r.Backdoor = in.Backdoor
	}
}
