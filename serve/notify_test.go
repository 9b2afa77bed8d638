package serve

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"wormwatch/detect"
	"wormwatch/internal/smtptest"
	"wormwatch/notify"
	"wormwatch/serve/servetest"
)

// notifyTable is the [notify] table of TestNotifyService: the owner table
// and opt-out list of testdata/notify, sending through the test's SMTP
// server (%s: its address, %s: its CA file) at rate messages a second.
const notifyTable = `
[notify]
enabled = true
owners = %q
opt_out = %q
org = "Example CERT"
contact = "cert@example.org"
smtp = %q
smtp_ca = %q
smtp_user = "notifier"
smtp_password_env = "WORMWATCH_TEST_SMTP_PASSWORD"
from = "notices@cert.example.org"
rate = %v
`

// wormLines returns a Code Red probe a minute from each address, from
// 15:30 on 19 July 2001, count times each.
func wormLines(count int, addrs ...string) []byte {
	var b bytes.Buffer
	t0 := time.Date(2001, 7, 19, 15, 30, 0, 0, time.UTC)
	for i := range count {
		for j, a := range addrs {
			at := t0.Add(time.Duration(i*len(addrs)+j) * time.Minute)
			fmt.Fprintf(&b, "%s - - [%s] \"%s\" 404 290 \"-\" \"-\"\n", a, at.Format("02/Jan/2006:15:04:05 -0700"), servetest.CodeRedRequest)
		}
	}
	return b.Bytes()
}

// notifyRig is a service with [notify] on a followed log, and the SMTP
// server it sends through.
type notifyRig struct {
	r    *running
	smtp *smtptest.Server
	log  string
	data string
	conf string
}

// startNotify writes the configuration and starts the service.
func startNotify(t *testing.T, dir string, rate float64) *notifyRig {
	t.Helper()
	ca := smtptest.NewCA(t)
	srv := smtptest.Start(t, ca, smtptest.Options{})
	td := servetest.ModuleFile(t, "serve/testdata/notify")
	conf := filepath.Join(dir, "serve.toml")
	writeFile(t, conf, fmt.Appendf(nil, notifyTable, filepath.Join(td, "owners.csv"), filepath.Join(td, "optout.txt"),
		srv.Addr, ca.WritePEM(t, dir, "ca.pem"), rate))
	rig := &notifyRig{smtp: srv, log: filepath.Join(dir, "access.log"), data: filepath.Join(dir, "data"), conf: conf}
	rig.restart(t)
	return rig
}

// restart starts the service (again) on the same data folder.
func (g *notifyRig) restart(t *testing.T) {
	t.Helper()
	cfg := loadConfig(t, g.conf, []Input{logInput(t, g.log, "name=web")}, servetest.Sets(g.data))
	g.r = start(t, cfg, Options{})
}

// feed appends lines to the log and waits until the service has
// committed them all.
func (g *notifyRig) feed(t *testing.T, lines []byte) {
	t.Helper()
	servetest.AppendFile(t, g.log, lines)
	st, err := os.Stat(g.log)
	if err != nil {
		t.Fatal(err)
	}
	servetest.WaitFor(t, "the lines committed", func() bool { return g.r.committedOffset(t, g.log) == st.Size() })
}

// notifyPost asks for a notification and reads the answer.
func (g *notifyRig) notifyPost(t *testing.T, query string, want int) notify.SummaryJSON {
	t.Helper()
	code, body := servetest.Request(t, http.DefaultClient, "POST", g.r.url+"/api/v1/notify"+query, nil)
	var sum notify.SummaryJSON
	if code != want {
		t.Fatalf("POST /api/v1/notify%s: %d %s, want %d", query, code, body, want)
	}
	if code == 200 {
		if err := json.Unmarshal(body, &sum); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
	}
	return sum
}

// noticeAddrs reads a folder of notices: each notice's CSV's src_ip
// column, by the owner column, and the index's owners.
func noticeAddrs(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	index := readCSVFile(t, filepath.Join(dir, notify.IndexName))
	for _, row := range index {
		for _, r := range readCSVFile(t, filepath.Join(dir, row["csv"])) {
			if r["owner"] != row["owner"] {
				t.Errorf("%s: a row of %s in %s's notice", row["csv"], r["owner"], row["owner"])
			}
			out[row["owner"]] = append(out[row["owner"]], r["src_ip"])
		}
	}
	return out
}

// readCSVFile reads a CSV file with a header as maps by column.
func readCSVFile(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: %v (%d records)", path, err, len(recs))
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

// ledgerLines reads the ledger as "owner status to addresses" lines.
func ledgerLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e notify.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("ledger line %q: %v", sc.Text(), err)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", e.Owner, e.Status, e.To, strings.Join(e.Addresses, ",")))
	}
	return out
}

// TestNotifyService runs the service with [notify] on a log of Code Red
// probes from known addresses, and a real SMTP server on loopback
// (STARTTLS, AUTH PLAIN). POST /api/v1/notify writes one notice per owner
// of the owner table into DATA/notices/TIME/ (exactly the owners and
// addresses the table gives; the opted-out owner and prefix, the address
// no owner holds and the address with no worm request left out) and
// mails those with a contact (one message each, over TLS, holding their
// addresses); the ledger has one line per notice. A second call sends
// nothing (the window), a new address is told alone, a run while one runs
// is 409, and after a restart the state still leaves the addresses told
// out.
func TestNotifyService(t *testing.T) {
	t.Setenv("WORMWATCH_TEST_SMTP_PASSWORD", smtptest.Password)
	dir := t.TempDir()
	g := startNotify(t, dir, 0.5)
	lines := wormLines(2, "192.0.2.1", "192.0.2.70", "192.0.2.130", "192.0.2.200", "198.51.100.5", "203.0.113.9", "100.64.1.1")
	lines = append(lines, "192.0.2.9 - - [19/Jul/2001:15:31:00 +0000] \"GET /index.html HTTP/1.0\" 200 512 \"-\" \"Mozilla/4.0\"\n"...)
	g.feed(t, lines)

	// Written only: nothing sent, nothing remembered.
	sum := g.notifyPost(t, "?send=false", 200)
	want := map[string][]string{"Example Hosting": {"192.0.2.130", "192.0.2.200"}, "Example Networks": {"192.0.2.1"}, "No Contact Ltd": {"203.0.113.9"}}
	if got := noticeAddrs(t, sum.Folder); !equalAddrs(got, want) || sum.Sent != nil || sum.Notices != 3 || sum.Addresses != 4 {
		t.Fatalf("notices %v (summary %+v), want %v and nothing sent", got, sum, want)
	}
	if rel, _ := filepath.Rel(g.data, sum.Folder); filepath.Dir(rel) != "notices" {
		t.Errorf("the notices in %s, not in the data folder's notices/", sum.Folder)
	}
	if sum.Left.Unowned != 1 || sum.Left.OptedOut != 1 || sum.Left.OptedOutOwners != 1 || sum.Left.OptedOutAddrs != 1 {
		t.Errorf("left out: %+v, want 1 unowned, 1 in an opted-out prefix, 1 of an opted-out owner", sum.Left)
	}

	// Sent: one message per owner with a contact; a run meanwhile is 409.
	answer := make(chan []byte, 1)
	go func() {
		resp, err := http.Post(g.r.url+"/api/v1/notify", "", nil)
		if err != nil {
			answer <- []byte(err.Error())
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer <- append([]byte(fmt.Sprint(resp.StatusCode, " ")), b...)
	}()
	servetest.WaitFor(t, "the first message", func() bool { return len(g.smtp.Received()) == 1 })
	g.notifyPost(t, "", 409) // the second message waits 2 s for the rate
	body := <-answer
	code, body, _ := bytes.Cut(body, []byte(" "))
	if err := json.Unmarshal(body, &sum); string(code) != "200" || err != nil {
		t.Fatalf("POST /api/v1/notify: %s %s", code, body)
	}
	if got := noticeAddrs(t, sum.Folder); !equalAddrs(got, want) || sum.Sent == nil || *sum.Sent != (notify.Sent{Messages: 2, Addresses: 3, NoContact: 1}) {
		t.Fatalf("notices %v, sent %+v", got, sum.Sent)
	}
	msgs := g.smtp.Received()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, m := range []struct{ to, addrs string }{{"abuse@hosting.example", "192.0.2.130 192.0.2.200"}, {"abuse@example.net", "192.0.2.1"}} {
		got := msgs[i]
		if !got.TLS || got.User != smtptest.User || got.From != "notices@cert.example.org" || !slices.Equal(got.To, []string{m.to}) {
			t.Errorf("message %d: TLS %v, user %q, from %q, to %v; want to %s", i, got.TLS, got.User, got.From, got.To, m.to)
		}
		for _, a := range strings.Fields(m.addrs) {
			if !bytes.Contains(got.Data, []byte(a)) {
				t.Errorf("message %d to %s does not name %s", i, m.to, a)
			}
		}
		if bytes.Contains(got.Data, []byte("192.0.2.70")) || bytes.Contains(got.Data, []byte("198.51.100.5")) {
			t.Errorf("message %d names an opted-out address", i)
		}
	}
	ledger := filepath.Join(g.data, "notify-ledger.jsonl")
	wantLedger := []string{"Example Hosting sent abuse@hosting.example 192.0.2.130,192.0.2.200", "Example Networks sent abuse@example.net 192.0.2.1",
		"No Contact Ltd no_contact  203.0.113.9"}
	if got := ledgerLines(t, ledger); !slices.Equal(got, wantLedger) {
		t.Errorf("ledger:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantLedger, "\n"))
	}

	// Again within the window: nothing sent; the notice without a contact
	// is written again (its addresses were told to nobody).
	sum = g.notifyPost(t, "", 200)
	if sum.Skipped != 3 || sum.Sent == nil || sum.Sent.Messages != 0 || len(g.smtp.Received()) != 2 ||
		!equalAddrs(noticeAddrs(t, sum.Folder), map[string][]string{"No Contact Ltd": {"203.0.113.9"}}) {
		t.Fatalf("the second run: %+v, sent %+v, %d messages", sum, sum.Sent, len(g.smtp.Received()))
	}
	wantLedger = append(wantLedger, "No Contact Ltd no_contact  203.0.113.9")
	if got := ledgerLines(t, ledger); !slices.Equal(got, wantLedger) {
		t.Errorf("ledger after the second run:\n%s", strings.Join(got, "\n"))
	}

	// A restart keeps the state; a new address of a told owner is told
	// alone.
	if err := g.r.stop(); err != nil {
		t.Fatal(err)
	}
	g.restart(t)
	g.feed(t, wormLines(1, "192.0.2.5"))
	sum = g.notifyPost(t, "", 200)
	msgs = g.smtp.Received()
	if sum.Sent == nil || *sum.Sent != (notify.Sent{Messages: 1, Addresses: 1, NoContact: 1}) || sum.Skipped != 3 || len(msgs) != 3 ||
		!equalAddrs(noticeAddrs(t, sum.Folder), map[string][]string{"Example Networks": {"192.0.2.5"}, "No Contact Ltd": {"203.0.113.9"}}) {
		t.Fatalf("after the restart: %+v, sent %+v, %d messages", sum, sum.Sent, len(msgs))
	}
	if !slices.Equal(msgs[2].To, []string{"abuse@example.net"}) || !bytes.Contains(msgs[2].Data, []byte("192.0.2.5")) {
		t.Errorf("the third message: to %v", msgs[2].To)
	}
	if got := ledgerLines(t, ledger); len(got) != 6 || got[4] != "Example Networks sent abuse@example.net 192.0.2.5" {
		t.Errorf("ledger after the restart:\n%s", strings.Join(got, "\n"))
	}
}

// equalAddrs compares the addresses of notices by owner.
func equalAddrs(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestNotifyConfigErrors checks that a mistake of the [notify] table is
// one error naming the file, the line and the key (a bad line of the
// owner table names its own file, line and field), and that a good table
// loads.
func TestNotifyConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	td := servetest.ModuleFile(t, "serve/testdata/notify")
	owners, optOut := filepath.Join(td, "owners.csv"), filepath.Join(td, "optout.txt")
	bad := filepath.Join(dir, "bad.csv")
	writeFile(t, bad, []byte("prefix,owner,contact\n10.0.0.0/33,X,x@example.net\n"))
	noPEM := filepath.Join(dir, "ca.pem")
	writeFile(t, noPEM, []byte("not a certificate\n"))
	head := "[notify]\nenabled = true\n"
	own := fmt.Sprintf("owners = %q\n", owners)
	for _, tc := range []struct{ doc, want string }{
		{head, "serve.toml:1: notify.owners: missing: give owners"},
		{head + fmt.Sprintf("owners = %q\n", bad), "serve.toml:3: notify.owners: " + bad + ":2: field prefix:"},
		{head + own + "opt_out = \"/nonexistent/optout\"\n", "serve.toml:4: notify.opt_out: /nonexistent/optout: "},
		{head + "delegations = [\"/nonexistent/deleg\"]\n", "serve.toml:3: notify.delegations: /nonexistent/deleg: "},
		{head + own + "contact = \"somebody\"\n", "serve.toml:4: notify.contact: \"somebody\": want an e-mail address or an https URL"},
		{head + own + "families = [\"slammer2\"]\n", "serve.toml:4: notify.families: \"slammer2\" is no family"},
		{head + own + "from = \"a@example.org\"\n", "serve.toml:4: notify.from: applies only with smtp"},
		{head + own + "smtp = \"mail.example.org\"\nfrom = \"a@example.org\"\n", "serve.toml:4: notify.smtp: \"mail.example.org\": want host:port"},
		{head + own + "smtp = \"mail.example.org:587\"\n", "notify.from: missing"},
		{head + own + "smtp = \"mail.example.org:587\"\nfrom = \"a@example.org\"\nsmtp_ca = \"" + noPEM + "\"\n", "serve.toml:6: notify.smtp_ca: " + noPEM + ": no PEM certificate"},
		{head + own + "smtp = \"mail.example.org:587\"\nfrom = \"a@example.org\"\nsmtp_user = \"u\"\nsmtp_password_env = \"WORMWATCH_TEST_UNSET_PASSWORD\"\n", "notify.smtp_password_env: $WORMWATCH_TEST_UNSET_PASSWORD is not set"},
		{head + own + "rate = 0.0\n", "serve.toml:4: notify.rate: "},
		{head + own + "taxii_member = \"cert-north\"\ntaxii_collections = [\"amber\"]\n", "serve.toml:4: notify.taxii_member: the service has no TAXII server"},
		{head + own + "every = \"-1s\"\n", "serve.toml:4: notify.every"},
		{head + own + "every = \"500ms\"\n", "serve.toml:4: notify.every: 500ms: want 0s (no schedule) or at least 1s"},
	} {
		file := filepath.Join(dir, "serve.toml")
		writeFile(t, file, []byte(tc.doc))
		_, err := Load(file, Overrides{Sets: servetest.Sets(filepath.Join(dir, "data"))})
		if err == nil {
			t.Errorf("%q: no error", tc.doc)
			continue
		}
		msg := strings.ReplaceAll(err.Error(), file, "serve.toml")
		if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%q:\n got %s\nwant one line holding %q", tc.doc, msg, tc.want)
		}
	}
	alliance, err := os.ReadFile(servetest.ModuleFile(t, "docs/examples/alliance.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ keys, want string }{
		{"taxii_member = \"cert-north\"\ntaxii_collections = [\"red\"]\n", "notify.taxii_collections: \"red\" has the TLP floor red"},
		{"taxii_member = \"cert-north\"\ntaxii_collections = [\"amber-strict\"]\n", "notify.taxii_collections: \"amber-strict\" has the TLP floor amber+strict"},
		{"taxii_member = \"cert-north\"\ntaxii_collections = [\"nope\"]\n", "notify.taxii_collections: \"nope\" is no [[taxii.collection]]"},
		{"taxii_member = \"nobody\"\ntaxii_collections = [\"amber\"]\n", "notify.taxii_member: \"nobody\" is no [[taxii.member]]"},
		{"taxii_member = \"vendor-east\"\ntaxii_collections = [\"sightings-inbox\"]\n", "notify.taxii_member: vendor-east may not read collection sightings-inbox"},
		{"taxii_collections = [\"amber\"]\n", "notify.taxii_member: missing"},
	} {
		file := filepath.Join(dir, "alliance.toml")
		writeFile(t, file, append(slices.Clone(alliance), (head+own+tc.keys)...))
		_, err := Load(file, Overrides{Sets: servetest.Sets(filepath.Join(dir, "data"))})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), file+":") {
			t.Errorf("%q: %v, want an error of the file's line holding %q", tc.keys, err, tc.want)
		}
	}
	file := filepath.Join(dir, "serve.toml")
	writeFile(t, file, []byte(head+own+fmt.Sprintf("opt_out = %q\n", optOut)+"[csaf]\nbase_url = \"https://cert.example.org\"\ncontacts = [\"mailto:cert@example.org\"]\n"))
	cfg, err := Load(file, Overrides{Sets: servetest.Sets(filepath.Join(dir, "data"))})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.notifyJob == nil || cfg.notifyJob.Owners().Len() != 4 || cfg.notifyOptions().Advisory != "https://cert.example.org/.well-known/csaf/provider-metadata.json" || cfg.notifyOptions().Mail != nil {
		t.Errorf("the job of a good table: %+v", cfg.notifyOptions())
	}
}

// memberBundle returns the objects of the STIX bundle detect writes of a
// log of Code Red probes from addrs, marked AMBER, created by an identity
// of the member's name (id: identity--UUID): what a member shares.
func memberBundle(t *testing.T, dir, name, uuid string, addrs ...string) []json.RawMessage {
	t.Helper()
	path := filepath.Join(dir, name+".log")
	writeFile(t, path, wormLines(1, addrs...))
	rep, err := detect.Analyze(t.Context(), []string{path}, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	var b bytes.Buffer
	if _, err := rep.WriteSTIX(&b, "amber"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Objects []struct {
			Type, ID string
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(doc.Objects, func(o struct{ Type, ID string }) bool { return o.Type == "identity" })
	if i < 0 {
		t.Fatal("detect's bundle has no identity")
	}
	text := strings.ReplaceAll(b.String(), doc.Objects[i].ID, "identity--"+uuid)
	text = regexp.MustCompile(`"name":\s*"wormwatch"`).ReplaceAllString(text, `"name": "`+name+`"`)
	var objs struct{ Objects []json.RawMessage }
	if err := json.Unmarshal([]byte(text), &objs); err != nil || !strings.Contains(text, `"name": "`+name+`"`) {
		t.Fatalf("%v: no identity named %s", err, name)
	}
	return objs.Objects
}

// TestNotifyTAXII runs the service with the example alliance's TAXII
// server and [notify] reading the AMBER collection's sightings as
// cert-north: the addresses isp-south (cert-north's group) shared there
// are told besides those of the service's own log, seen by the identity
// that shared them; those vendor-east (no group with cert-north) shared
// are not, as cert-north may not read them.
func TestNotifyTAXII(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	example, err := os.ReadFile(servetest.ModuleFile(t, "docs/examples/alliance.toml"))
	if err != nil {
		t.Fatal(err)
	}
	td := servetest.ModuleFile(t, "serve/testdata/notify")
	conf := filepath.Join(dir, "serve.toml")
	writeFile(t, conf, append(example, fmt.Sprintf("[notify]\nenabled = true\nowners = %q\ntaxii_member = \"cert-north\"\ntaxii_collections = [\"amber\"]\n",
		filepath.Join(td, "owners.csv"))...))
	g := &notifyRig{log: filepath.Join(dir, "access.log"), data: filepath.Join(dir, "data"), conf: conf}
	g.restart(t)
	g.feed(t, wormLines(1, "192.0.2.1"))
	for _, c := range []struct {
		member string
		addrs  []string
		uuid   string
	}{{"isp-south", []string{"192.0.2.130", "203.0.113.9"}, "1b0b6c4a-8f8e-4c55-9b1e-6a2f7c1d0a01"},
		{"vendor-east", []string{"192.0.2.200"}, "2c1c7d5b-9a9f-4d66-8c2f-7b3a8d2e1b02"}} {
		res, err := g.r.svc.taxii.Add(t.Context(), c.member, "amber", memberBundle(t, dir, c.member, c.uuid, c.addrs...))
		if err != nil || res.Accepted == 0 {
			t.Fatalf("%s's bundle: %+v %v", c.member, res, err)
		}
		for _, r := range res.Refused { // an object given twice in a bundle (an observed-data of two sightings) is stored once
			if !strings.Contains(r, "already in this collection") {
				t.Fatalf("%s's bundle: refused %s", c.member, r)
			}
		}
	}
	sum := g.notifyPost(t, "", 200)
	want := map[string][]string{"Example Hosting": {"192.0.2.130"}, "Example Networks": {"192.0.2.1"}, "No Contact Ltd": {"203.0.113.9"}}
	if got := noticeAddrs(t, sum.Folder); !equalAddrs(got, want) || sum.Sent != nil || sum.Unresolved != 0 {
		t.Fatalf("notices %v (summary %+v), want %v", got, sum, want)
	}
	for _, row := range readCSVFile(t, filepath.Join(sum.Folder, "example-hosting.csv")) {
		if row["public_source"] != "isp-south" {
			t.Errorf("192.0.2.130 seen by %q, want the identity that shared it (isp-south)", row["public_source"])
		}
	}
	for _, row := range readCSVFile(t, filepath.Join(sum.Folder, "example-networks.csv")) {
		if row["public_source"] != "wormwatch" || row["src_ip"] != "192.0.2.1" {
			t.Errorf("the service's own row %v", row)
		}
	}
}

// TestNotifyEvery: with every, the service runs notifications on its own:
// without smtp each writes the notices (nothing is told, so every address
// again) into a folder of its own.
func TestNotifyEvery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	td := servetest.ModuleFile(t, "serve/testdata/notify")
	conf := filepath.Join(dir, "serve.toml")
	writeFile(t, conf, fmt.Appendf(nil, "[notify]\nenabled = true\nowners = %q\nevery = \"1s\"\n", filepath.Join(td, "owners.csv")))
	g := &notifyRig{log: filepath.Join(dir, "access.log"), data: filepath.Join(dir, "data"), conf: conf}
	g.restart(t)
	g.feed(t, wormLines(1, "192.0.2.1", "203.0.113.9"))
	var folders []os.DirEntry
	servetest.WaitFor(t, "two scheduled runs", func() bool {
		all, _ := os.ReadDir(filepath.Join(g.data, "notices"))
		folders = slices.DeleteFunc(all, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), ".") }) // a run's folder being written
		return len(folders) >= 2
	})
	want := map[string][]string{"Example Networks": {"192.0.2.1"}, "No Contact Ltd": {"203.0.113.9"}}
	for _, f := range folders[:2] {
		if got := noticeAddrs(t, filepath.Join(g.data, "notices", f.Name())); !equalAddrs(got, want) {
			t.Errorf("%s: %v, want %v", f.Name(), got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(g.data, "notify-ledger.jsonl")); err == nil {
		t.Error("a ledger was written without sending")
	}
}
