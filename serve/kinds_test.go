package serve

import (
	"strings"
	"testing"
)

// TestInputKinds checks the kinds' values and documentation (the input.kind
// row of docs/serve.md, unchanged from the enum and doc tags they
// replace), which are captures, and that ParseInputFlag names each kind's
// flag and refuses a kind that is not registered.
func TestInputKinds(t *testing.T) {
	t.Parallel()
	if got := strings.Join(InputKind("").Enum(), ","); got != "log,zeek,pcap" {
		t.Errorf("kinds %s", got)
	}
	if got, want := InputKind("").ParamDoc(), "log: a web-server log followed (tail -F); zeek: a Zeek http.log or conn.log followed; pcap: a capture file, a folder of captures, or - for standard input"; got != want {
		t.Errorf("doc %s", got)
	}
	for k, want := range map[InputKind]bool{KindLog: false, KindZeek: false, KindPcap: true, "gopher": false} {
		if got := k.captures(); got != want {
			t.Errorf("%s: captures %v", k, got)
		}
	}
	for k, flag := range map[InputKind]string{KindLog: "--follow", KindZeek: "--zeek", KindPcap: "--pcap"} {
		_, err := ParseInputFlag(k, "x,size=abc")
		if err == nil || !strings.HasPrefix(err.Error(), flag+" x,size=abc: size: ") {
			t.Errorf("%s: %v, want an error of %s", k, err, flag)
		}
	}
	_, err := ParseInputFlag("gopher", "x")
	if want := `unknown input kind "gopher" (want log, zeek or pcap)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("kind gopher: %v, want %s", err, want)
	}
}
