package biglog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	a := "1.1.1.1 - - [10/May/2004:11:39:11 -0400] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\n" +
		"2.2.2.2 - - [12/May/2004:23:00:00 -0400] \"GET /x HTTP/1.1\" 404 5 \"-\" \"-\"\n"
	b := "3.3.3.3 - - [01/Aug/2004:08:00:00 -0400] \"GET /y HTTP/1.0\" 404 5 \"-\" \"-\"" // no final newline
	var out bytes.Buffer
	n, err := Write(&out, [][]byte{[]byte(a), []byte(b)}, 2000)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if int64(len(lines)) != n || out.Len() < 2000 || len(lines)%3 != 0 {
		t.Fatalf("%d lines (%d said), %d bytes", len(lines), n, out.Len())
	}
	var prev time.Time
	for i, l := range lines {
		lb, rb := strings.IndexByte(l, '['), strings.IndexByte(l, ']')
		when, err := time.Parse("02/Jan/2006:15:04:05 -0700", l[lb+1:rb])
		if err != nil {
			t.Fatal(err)
		}
		if when.Before(prev) {
			t.Fatalf("line %d at %v before %v: not in time order", i, when, prev)
		}
		prev = when
		// Everything but the time is the sample's.
		src := []string{"1.1.1.1", "2.2.2.2", "3.3.3.3"}[i%3]
		if !strings.HasPrefix(l, src+" - - [") || !strings.HasSuffix(l, `5 "-" "-"`) {
			t.Fatalf("line %d: %q", i, l)
		}
	}
	// The second sample is moved to less than a day after the first ends
	// (12 May 23:00), the second copy by whole days, times of day and zone
	// kept.
	if !strings.Contains(lines[2], "[13/May/2004:08:00:00 -0400]") {
		t.Errorf("second sample at %q, want 13 May 08:00", lines[2])
	}
	if !strings.Contains(lines[3], ":11:39:11 -0400]") {
		t.Errorf("second copy at %q", lines[3])
	}
}

func TestWriteWorms(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	start := time.Date(2004, 8, 1, 0, 0, 0, 0, time.UTC)
	n, err := WriteWorms(&out, Worms{Lines: 1000, Sources: 1000, Seed: 1, Start: start, Step: time.Second})
	if err != nil || n != 1000 {
		t.Fatal(n, err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l[:strings.IndexByte(l, ' ')]] = true
	}
	if len(lines) != 1000 || len(seen) != 1000 || !strings.HasPrefix(lines[0], "1.0.0.0 - - [01/Aug/2004:00:00:00 +0000] \"") || !strings.Contains(lines[1], "[01/Aug/2004:00:00:01 +0000]") {
		t.Errorf("%d lines from %d sources; line 1 %q", len(lines), len(seen), lines[1])
	}
	out.Reset()
	if _, err := WriteWorms(&out, Worms{Lines: 1000, Sources: 30, Seed: 1, Start: start, Step: time.Second, Jitter: time.Minute, Noise: 0.1}); err != nil {
		t.Fatal(err)
	}
	seen = map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		seen[l[:strings.IndexByte(l, ' ')]] = true
	}
	if len(seen) > 30 || len(seen) < 20 {
		t.Errorf("%d sources, want at most 30", len(seen))
	}
	if a, b := string(appendAddr(nil, 0)), string(appendAddr(nil, 1<<32+5)); a == string(appendAddr(nil, 1)) || b != "2001:db8::100000005" {
		t.Errorf("addresses %q %q", a, b)
	}
}
