package csafsite

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchStore writes n wormwatch advisories into a data folder's store, as
// Publish would have (without the fsyncs), and returns the data folder.
func benchStore(b *testing.B, n int) string {
	b.Helper()
	data := b.TempDir()
	for i := range n {
		doc := wormAdvisory(b, fmt.Sprintf("bench-%d", i), time.Date(2001, 7, 19, 0, i, 0, 0, time.UTC))
		a, err := parse(doc, 1<<24)
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(data, Folder, "advisories", tlpFolder, filepath.FromSlash(a.path()))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, doc, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return data
}

// BenchmarkOpen opens a site of 1,000 stored advisories (about 10 kB
// each): each is read, validated against the schema and signed (Ed25519),
// then every document of the site is built.
func BenchmarkOpen(b *testing.B) {
	data := benchStore(b, 1000)
	if _, err := New(testConfig(), data, nil); err != nil { // the key, made once
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := New(testConfig(), data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublish publishes a new revision of one advisory into a site
// of 1,000: validation, signature, the file written and synced, and every
// document of the site built again (the cost grows with the site).
func BenchmarkPublish(b *testing.B) {
	data := benchStore(b, 1000)
	s, err := New(testConfig(), data, nil)
	if err != nil {
		b.Fatal(err)
	}
	base := wormAdvisory(b, "bench-0", time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC))
	docs := make([][]byte, 0, 1024)
	at := time.Date(2001, 7, 20, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if i >= len(docs) {
			d, err := reviseDoc(base, at.Add(time.Duration(i)*time.Second), time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			docs = append(docs, d)
		}
		b.StartTimer()
		if _, err := s.Publish(docs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse checks one wormwatch advisory (about 10 kB) as Publish
// does before anything is written: JSON, repeated names, the CSAF 2.0
// schema, the site's rules, the hashes.
func BenchmarkParse(b *testing.B) {
	doc := wormAdvisory(b, "bench", time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC))
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := parse(doc, 1<<24); err != nil {
			b.Fatal(err)
		}
	}
}
