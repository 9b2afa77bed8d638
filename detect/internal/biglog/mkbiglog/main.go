// Command mkbiglog writes a large Apache log for benchmarks by repeating
// sample logs with shifted times, or with -worms a synthetic log of worm
// requests from many sources (see package biglog):
//
//	go run ./detect/internal/biglog/mkbiglog -size 1100000000 -out /tmp/big.log sample1.log sample2.log
//	go run ./detect/internal/biglog/mkbiglog -worms 50000000 -sources 50000000 -out /tmp/sources.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"wormwatch/detect/internal/biglog"
)

func main() {
	size := flag.Int64("size", 1<<30, "write at least this many bytes")
	out := flag.String("out", "", "output file (default: standard output)")
	worms := flag.Int64("worms", 0, "write this many synthetic worm lines instead of repeating samples")
	sources := flag.Int64("sources", 0, "with -worms: distinct sources (default: one per line)")
	seed := flag.Uint64("seed", 1, "with -worms: random seed")
	jitter := flag.Duration("jitter", 0, "with -worms: move each line's time by up to this much either way (out of order)")
	flag.Parse()
	if *worms == 0 && flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "mkbiglog: give one or more sample logs")
		os.Exit(2)
	}
	if *worms > 0 {
		if *sources == 0 {
			*sources = *worms
		}
		writeOut(*out, func(w *bufio.Writer) (int64, error) {
			return biglog.WriteWorms(w, biglog.Worms{Lines: *worms, Sources: *sources, Seed: *seed,
				Start: time.Date(2003, 1, 1, 0, 0, 0, 0, time.UTC), Step: time.Second, Jitter: *jitter})
		})
		return
	}
	var samples [][]byte
	for _, p := range flag.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkbiglog:", err)
			os.Exit(2)
		}
		samples = append(samples, b)
	}
	writeOut(*out, func(w *bufio.Writer) (int64, error) { return biglog.Write(w, samples, *size) })
}

// writeOut writes to the file out (standard output when empty) with write.
func writeOut(out string, write func(*bufio.Writer) (int64, error)) {
	w := os.Stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkbiglog:", err)
			os.Exit(2)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	lines, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkbiglog:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "mkbiglog: %d lines\n", lines)
}
