package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"wormwatch/internal/smtptest"
)

// notifyFiles writes the owner data of the notify tests into dir: a table
// giving the low half of IPv4 to one owner with a contact, a delegation
// file giving the high half to a holder (no contact), and an opt-out list
// of 24.0.0.0/8.
func notifyFiles(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"owners.csv": "prefix,owner,contact\n0.0.0.0/1,Low Half Networks,abuse@low.example\n",
		"delegated-test-extended": "2|ripencc|20261202|1|19830705|20261201|+0100\nripencc|*|ipv4|*|1|summary\n" +
			"ripencc|NL|ipv4|128.0.0.0|2147483648|20010101|allocated|org-high\n",
		"optout.txt": "# the owners of 24/8 asked not to be told\nprefix 24.0.0.0/8\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// csvRows reads a notice's CSV as maps by column.
func csvRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	return readCSV(t, path)
}

func TestNotify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notifyFiles(t, dir)
	logs := []string{logPath(t, "honeynet2004_access_log.10"), logPath(t, "honeynet2004_access_log.22")}
	r := mustRun(t, dir, append([]string{"notify", "--owners", "owners.csv", "--delegations", "delegated-test-extended",
		"--opt-out", "optout.txt", "--out", "notices"}, logs...)...)
	files := tree(t, filepath.Join(dir, "notices"))
	if !slices.Equal(files, []string{".", "index.csv", "low-half-networks.csv", "low-half-networks.txt", "ripencc-org-high.csv", "ripencc-org-high.txt"}) {
		t.Fatalf("notices: %v", files)
	}
	// Every address detect finds is in one notice, unless opted out.
	var rep struct {
		Sources []struct{ Source string } `json:"sources"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, append([]string{"detect", "--format", "json"}, logs...)...).stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	opted := 0
	for _, s := range rep.Sources {
		if strings.HasPrefix(s.Source, "24.") {
			opted++
			continue
		}
		want[s.Source] = true
	}
	got := map[string]string{}
	for _, f := range []string{"low-half-networks.csv", "ripencc-org-high.csv"} {
		for _, row := range csvRows(t, filepath.Join(dir, "notices", f)) {
			if _, dup := got[row["src_ip"]]; dup {
				t.Errorf("%s in two notices", row["src_ip"])
			}
			got[row["src_ip"]] = row["owner"]
			if row["public_source"] != "wormwatch" || row["protocol"] != "tcp" {
				t.Errorf("row %v", row)
			}
		}
	}
	if len(got) != len(want) || opted == 0 {
		t.Errorf("%d addresses in the notices, want %d (%d opted out)", len(got), len(want), opted)
	}
	for a, owner := range got {
		first, _, _ := strings.Cut(a, ".")
		if !want[a] || (owner == "Low Half Networks") != (atoi(t, first) < 128) {
			t.Errorf("%s: owner %q", a, owner)
		}
	}
	if !strings.Contains(r.stdout, "2 notices") || !strings.Contains(r.stdout, "in opted-out prefixes") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	text := string(readFile(t, filepath.Join(dir, "notices", "ripencc-org-high.txt")))
	if !strings.Contains(text, "To the abuse team of RIPE NCC holder org-high (NL),") || !strings.Contains(text, "MS01-033") {
		t.Errorf("org-high's notice:\n%s", text)
	}

	// The same detections from detect's JSON and a member's STIX bundle:
	// the same addresses, seen by both.
	mustRun(t, dir, append([]string{"detect", "--format", "json", "--out", "found.json", "--stix", "member.json"}, logs...)...)
	mustRun(t, dir, "notify", "--owners", "owners.csv", "--delegations", "delegated-test-extended", "--opt-out", "optout.txt",
		"--detect-json", "found.json", "--stix", "member-b=member.json", "--out", "notices2")
	for _, row := range csvRows(t, filepath.Join(dir, "notices2", "low-half-networks.csv")) {
		if got[row["src_ip"]] != "Low Half Networks" || row["public_source"] != "member-b;wormwatch" {
			t.Errorf("from the JSON and the bundle: row %v", row)
		}
	}
}

func TestNotifyBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notifyFiles(t, dir)
	log := logPath(t, "honeynet2004_access_log.10")
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bad-owners.csv", "prefix,owner,contact\n0.0.0.0/1,Low,abuse@low.example\n10.0.0.0/33,X,x@example.net\n")
	write("bad-deleg", "2|ripencc|1|1|1|1|+0\nripencc|NL|ipv4|128.0.0.0|0|20010101|allocated|h\n")
	write("bad-optout.txt", "prefix 24.0.0.0/8\nowners Somebody\n")
	write("bad.json", `{"schema": "wormwatch-detect/1", "sources": [{"source": "192.0.2.1", "lines": 0}]}`)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--owners", "bad-owners.csv", log}, []string{"bad-owners.csv:3: field prefix:", "10.0.0.0/33"}},
		{[]string{"--delegations", "bad-deleg", log}, []string{"bad-deleg:2: field value:", "not a count of addresses"}},
		{[]string{"--owners", "owners.csv", "--opt-out", "bad-optout.txt", log}, []string{"bad-optout.txt:2: field kind:", `"owners"`}},
		{[]string{"--owners", "owners.csv", "--detect-json", "bad.json"}, []string{"bad.json: field sources[0].lines:"}},
		{[]string{"--owners", "missing.csv", log}, []string{"missing.csv: no such file"}},
		{[]string{"--owners", "owners.csv", "--rate", "5", log}, []string{"--rate applies only with --send"}},
		{[]string{"--owners", "owners.csv", "--send", "--smtp", "127.0.0.1:1", log}, []string{"--send needs --"}},
		{[]string{"--owners", "owners.csv", log, "--out", "owners.csv"}, []string{"--out owners.csv: exists"}},
		{[]string{"--owners", "owners.csv", "--state", "owners.csv", log}, []string{"--state owners.csv: is an input of this command"}},
		{[]string{log}, []string{"give --owners or --delegations"}},
		{[]string{"--owners", "owners.csv"}, []string{"give logs or captures, --detect-json or --stix"}},
	} {
		args := append([]string{"notify"}, c.args...)
		if !slices.Contains(args, "--out") {
			args = append(args, "--out", "notices")
		}
		oneLine(t, wormwatch(t, dir, args...), 2, c.want...)
		if _, err := os.Stat(filepath.Join(dir, "notices")); err == nil {
			t.Fatalf("%v: a notices folder was written", c.args)
		}
	}
}

// TestNotifySend e-mails the notices to an SMTP server started here on
// loopback, with STARTTLS and a certificate made here, twice: the second
// run, within the window, sends nothing.
func TestNotifySend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notifyFiles(t, dir)
	srv := startSMTP(t, dir)
	log := logPath(t, "honeynet2004_access_log.10")
	args := []string{"notify", "--owners", "owners.csv", "--delegations", "delegated-test-extended", "--send", "--smtp", srv.Addr,
		"--smtp-ca", "ca.pem", "--smtp-user", "notifier", "--from", "notices@cert.example.org", "--rate", "50",
		"--state", "state.db", "--ledger", "ledger.jsonl", "--org", "Example CERT", log}
	run := func(out string) string {
		cmd := exec.CommandContext(t.Context(), bin, append(args, "--out", out)...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "WORMWATCH_SMTP_PASSWORD=secret")
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		if err := cmd.Run(); err != nil || se.Len() > 0 {
			t.Fatalf("notify --send: %v\n%s", err, se.String())
		}
		return so.String()
	}
	out := run("first")
	msgs := srv.Received()
	if len(msgs) != 1 || !msgs[0].TLS || !slices.Equal(msgs[0].To, []string{"abuse@low.example"}) {
		t.Fatalf("%d messages %+v", len(msgs), msgs)
	}
	// The message holds the notice written to the folder.
	text := readFile(t, filepath.Join(dir, "first", "low-half-networks.txt"))
	if !bytes.Contains(bytes.ReplaceAll(msgs[0].Data, []byte("=\r\n"), nil), bytes.ReplaceAll(text[:200], []byte("\n"), []byte("\r\n"))) {
		t.Error("the message does not hold the notice's text")
	}
	ledger := ledgerStatus(t, filepath.Join(dir, "ledger.jsonl"))
	if !slices.Equal(ledger, []string{"Low Half Networks:sent", "ripencc:org-high:no_contact"}) || !strings.Contains(out, "sent 1 messages") {
		t.Errorf("ledger %v, summary:\n%s", ledger, out)
	}
	out = run("second")
	if len(srv.Received()) != 1 || !strings.Contains(out, "sent 0 messages") || strings.Contains(out, " 0 reported in the window already") {
		t.Errorf("the second run sent again, or its summary does not say why not:\n%s", out)
	}
	if ledger = ledgerStatus(t, filepath.Join(dir, "ledger.jsonl")); len(ledger) != 3 || ledger[2] != "ripencc:org-high:no_contact" {
		t.Errorf("second run's ledger %v", ledger)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "second")); len(entries) != 3 { // org-high's notice and index.csv
		t.Errorf("second run's folder: %d files", len(entries))
	}
}

// ledgerStatus reads a ledger as owner:status per line.
func ledgerStatus(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, path)))
	for sc.Scan() {
		var e struct{ Owner, Status string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Owner+":"+e.Status)
	}
	return out
}

// startSMTP starts an SMTP server on loopback (package smtptest: STARTTLS
// with a certificate signed by a CA made here, written to dir/ca.pem, and
// AUTH PLAIN for notifier/secret).
func startSMTP(t *testing.T, dir string) *smtptest.Server {
	t.Helper()
	ca := smtptest.NewCA(t, "127.0.0.1")
	ca.WritePEM(t, dir, "ca.pem")
	return smtptest.Start(t, ca, smtptest.Options{})
}

// TestServeNotifyKill9 runs wormwatch serve with [notify] sending through
// a loopback SMTP server: POST /api/v1/notify mails the owner of the
// addresses of the followed log; the service is then killed with SIGKILL
// and started again: a second request sends nothing (the addresses told
// are in the data folder's state, which the kill did not lose), and a new
// address is told alone. The ledger holds every notice, across the kill.
func TestServeNotifyKill9(t *testing.T) {
	t.Setenv("WORMWATCH_SMTP_PASSWORD", smtptest.Password) // inherited by the service
	dir := t.TempDir()
	notifyFiles(t, dir)
	srv := startSMTP(t, dir)
	serveConfig(t, dir, `path = "access.log"`+"\nname = \"web\"")
	f, err := os.OpenFile(filepath.Join(dir, "serve.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "\n[notify]\nenabled = true\nowners = \"owners.csv\"\nsmtp = %q\nsmtp_ca = \"ca.pem\"\nsmtp_user = \"notifier\"\nfrom = \"notices@cert.example.org\"\nrate = 50\n", srv.Addr)
	f.Close()
	probes := func(addrs ...string) []byte {
		var b bytes.Buffer
		for i, a := range addrs {
			fmt.Fprintf(&b, "%s - - [19/Jul/2001:15:%02d:00 +0000] \"GET /default.ida?%s HTTP/1.0\" 404 290 \"-\" \"-\"\n", a, i, strings.Repeat("N", 224)+"%u9090%u6858%ucbd3%u7801%u9090")
		}
		return b.Bytes()
	}
	log := filepath.Join(dir, "access.log")
	appendFile(t, log, probes("24.1.2.3", "61.7.8.9", "200.1.1.1"))
	notifyNow := func(s *server) (sum struct {
		Notices, Skipped int
		Sent             struct{ Messages, Addresses int }
	}) {
		t.Helper()
		resp, err := serveClient.Post(s.url+"/api/v1/notify", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(body, &sum); resp.StatusCode != 200 || err != nil {
			t.Fatalf("POST /api/v1/notify: %d %s", resp.StatusCode, body)
		}
		return sum
	}
	size := func() int64 { st, _ := os.Stat(log); return st.Size() }

	s := startServer(t, dir, "--config", "serve.toml")
	s.waitCommitted(t, map[string]int64{"access.log": size()})
	if sum := notifyNow(s); sum.Notices != 1 || sum.Sent.Messages != 1 || sum.Sent.Addresses != 2 || len(srv.Received()) != 1 {
		t.Fatalf("first run: %+v, %d messages", sum, len(srv.Received()))
	}
	s.signal(t, syscall.SIGKILL)

	s = startServer(t, dir, "--config", "serve.toml")
	s.waitCommitted(t, map[string]int64{"access.log": size()})
	if sum := notifyNow(s); sum.Sent.Messages != 0 || sum.Skipped != 2 || len(srv.Received()) != 1 {
		t.Fatalf("after the kill: %+v, %d messages: the addresses told were told again", sum, len(srv.Received()))
	}
	appendFile(t, log, probes("9.9.9.9"))
	s.waitCommitted(t, map[string]int64{"access.log": size()})
	sum := notifyNow(s)
	msgs := srv.Received()
	if sum.Sent.Messages != 1 || sum.Sent.Addresses != 1 || len(msgs) != 2 || !bytes.Contains(msgs[1].Data, []byte("9.9.9.9")) || bytes.Contains(msgs[1].Data, []byte("61.7.8.9")) {
		t.Fatalf("a new address: %+v, %d messages", sum, len(msgs))
	}
	if got := ledgerStatus(t, filepath.Join(dir, "data", "notify-ledger.jsonl")); !slices.Equal(got, []string{"Low Half Networks:sent", "Low Half Networks:sent"}) {
		t.Errorf("ledger %v", got)
	}
	if code := s.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit status %d:\n%s", code, s.stderr)
	}
}
