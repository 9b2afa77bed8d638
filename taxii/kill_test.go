package taxii

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killEnv names the database a child process of TestKillNine serves.
const killEnv = "WORMWATCH_TAXII_KILL_DB"

// TestKillNineChild is the child of TestKillNine: with killEnv set it
// serves the example alliance on that database on a loopback port, prints
// the URL and serves until it is killed. Without it, it returns at once
// (it is not a test of its own).
func TestKillNineChild(t *testing.T) {
	file := os.Getenv(killEnv)
	if file == "" {
		return
	}
	s, err := New(loadConfigFile(t, examplePath), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("URL http://%s\n", ln.Addr())
	http.Serve(ln, s.Handler())
}

// TestKillNine: a server process is killed with SIGKILL while clients
// POST to it; every object whose POST was acknowledged (202, listed in
// the status's successes) is there when the database is opened again, and
// every envelope is there whole or not at all.
func TestKillNine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "taxii.db")
	acked := map[string]bool{}
	envelopes := map[string][]string{} // first id -> the envelope's ids
	for round := range 3 {
		url, child := startChild(t, file)
		deadline := time.After(time.Duration(300+200*round) * time.Millisecond)
		done := make(chan struct{})
		go func() {
			<-deadline
			child.Process.Signal(syscall.SIGKILL)
			close(done)
		}()
		for posted := 0; ; posted++ {
			ids := make([]string, 50)
			objs := make([][]byte, 50)
			for i := range ids {
				ids[i] = newID()
				objs[i] = stix(ids[i], day, nil)
			}
			envelopes[ids[0]] = ids
			st, ok := postTo(url, envelopeOf(objs...))
			if !ok {
				break // killed
			}
			if st.SuccessCount != 50 {
				t.Fatalf("status %+v", st)
			}
			for _, s := range st.Successes {
				acked[s.ID] = true
			}
		}
		<-done
		child.Wait()
	}
	if len(acked) < 100 {
		t.Fatalf("only %d objects acknowledged before the kills: the test proves little", len(acked))
	}
	e := startAt(t, loadConfigFile(t, examplePath), file, false)
	have := map[string]bool{}
	for q := "limit=1000"; ; {
		en := decode[envelope](t, e.get(north, objectsPath(collClear)+"?"+q, 200).body)
		for _, s := range en.ids() {
			have[s[:strings.IndexByte(s, '@')]] = true
		}
		if !en.More {
			break
		}
		q = "limit=1000&next=" + en.Next
	}
	for id := range acked {
		if !have[id] {
			t.Fatalf("acknowledged object %s lost after kill -9", id)
		}
	}
	for first, ids := range envelopes {
		n := 0
		for _, id := range ids {
			if have[id] {
				n++
			}
		}
		if n != 0 && n != len(ids) {
			t.Fatalf("envelope of %s: %d of %d objects stored", first, n, len(ids))
		}
	}
	t.Logf("%d objects acknowledged over 3 kills, %d stored (the rest were in flight)", len(acked), len(have))
}

// startChild starts the test binary as a server on file.
func startChild(t *testing.T, file string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillNineChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killEnv+"="+file)
	cmd.Dir, _ = os.Getwd()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return u, cmd
		}
	}
	cmd.Process.Kill()
	t.Fatal("the child printed no URL")
	return "", nil
}

// postTo posts an envelope to the CLEAR collection; false when the
// request failed (the server died).
func postTo(url string, body []byte) (statusResource, bool) {
	req, _ := http.NewRequest("POST", url+objectsPath(collClear), strings.NewReader(string(body)))
	req.Header.Set("Accept", MediaTAXII)
	req.Header.Set("Content-Type", MediaTAXII)
	req.Header.Set("Authorization", "Bearer north-test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return statusResource{}, false
	}
	defer resp.Body.Close()
	var st statusResource
	if resp.StatusCode != 202 || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return statusResource{}, false
	}
	return st, true
}
