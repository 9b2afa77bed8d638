// Command mkbiglog writes a large Apache log for benchmarks by repeating
// sample logs with shifted times (see package biglog):
//
//	go run ./detect/internal/biglog/mkbiglog -size 1100000000 -out /tmp/big.log sample1.log sample2.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"wormwatch/detect/internal/biglog"
)

func main() {
	size := flag.Int64("size", 1<<30, "write at least this many bytes")
	out := flag.String("out", "", "output file (default: standard output)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "mkbiglog: give one or more sample logs")
		os.Exit(2)
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
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkbiglog:", err)
			os.Exit(2)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	lines, err := biglog.Write(bw, samples, *size)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkbiglog:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "mkbiglog: %d lines\n", lines)
}
