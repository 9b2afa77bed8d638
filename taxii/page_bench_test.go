package taxii

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkPage: the server's own CPU for one page of 1,000 objects of a
// collection of 100,000, through the handler without the network: the
// query, the envelope, the audit entry's commit. An iteration is a page.
func BenchmarkPage(b *testing.B) {
	e := example(b)
	const n = 100_000
	for lo := 0; lo < n; lo += 1000 {
		objs := make([][]byte, 1000)
		for j := range objs {
			objs[j] = stix(newID(), day, map[string]any{"description": "GET /default.ida?NNNN from 198.51.100.3"})
		}
		e.post(south, collClear, objs...)
	}
	h := e.s.Handler()
	b.ResetTimer()
	for i := range b.N {
		r := httptest.NewRequest("GET", objectsPath(collClear)+"?limit=1000&next="+itoa(int64(i%99)*1000), nil)
		r.RemoteAddr = "127.0.0.1:5000"
		r.Header.Set("Accept", MediaTAXII)
		r.Header.Set("Authorization", "Bearer east-test-token")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Body.Len() < 400_000 {
			b.Fatalf("%d, %d bytes", w.Code, w.Body.Len())
		}
	}
}
