package csafsite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzPublish feeds arbitrary bytes to Publish: it must never panic, refuse
// with ErrRefused or publish; a published document must be served at the
// URL Publish returned, byte for byte, with a feed that still names it.
func FuzzPublish(f *testing.F) {
	good := wormAdvisory(f, "fuzz", time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC))
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(`"WHITE"`), []byte(`"AMBER"`), 1))
	f.Add(bytes.Replace(good, []byte(`"interim"`), []byte(`"draft"`), 1))
	f.Add([]byte(`{"document": {"category": "a", "category": "b"}}`))
	f.Add([]byte(`[[[[]]]]`))
	folder, _ := exampleFolder(f)
	examples, _ := filepath.Glob(filepath.Join(folder, "*.json"))
	for _, p := range examples {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	s, _ := newSite(f, testConfig())
	f.Fuzz(func(t *testing.T, doc []byte) {
		u, err := s.Publish(doc)
		if err != nil {
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("an error that is not a refusal: %v", err)
			}
			return
		}
		if body := getOK(t, s.Handler(), local(t, u), typeJSON); !bytes.Equal(body, doc) {
			t.Fatalf("%s serves other bytes than those published", u)
		}
		feed := getOK(t, s.Handler(), feedPath, typeJSON)
		if !bytes.Contains(feed, []byte(`"`+u+`"`)) {
			t.Fatalf("the feed does not name %s", u)
		}
	})
}
