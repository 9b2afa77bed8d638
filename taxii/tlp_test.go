package taxii

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The example's members by their test tokens.
var readers = map[string]who{"cert-north": north, "isp-south": south, "vendor-east": east}

// posted is an object a test posted and who must see it.
type posted struct {
	id   string
	seen []string // member names
}

// TestTLPMatrix posts, as each organisation, an object at each TLP level
// to the CLEAR collection (whose floor does not raise them), then checks
// that each member sees exactly the objects the rules give it through
// every endpoint: objects, paging, object by id, versions, manifest and
// filters. The expected audiences are written out by hand from the
// example's groups: responders = {cert-north, isp-south}, suppliers =
// {isp-south, vendor-east}; vendor-east is a guest.
func TestTLPMatrix(t *testing.T) {
	e := example(t)
	type row struct {
		poster, level, recipient string
		seen                     string // who sees it: N, S, E
	}
	rows := []row{
		{"cert-north", "clear", "", "NSE"}, {"cert-north", "green", "", "NS"}, {"cert-north", "amber", "", "NS"},
		{"cert-north", "amber+strict", "", "N"}, {"cert-north", "red", "vendor-east", "NE"}, {"cert-north", "red", "", "N"},
		{"isp-south", "clear", "", "NSE"}, {"isp-south", "green", "", "NS"}, {"isp-south", "amber", "", "NSE"},
		{"isp-south", "amber+strict", "", "S"}, {"isp-south", "red", "cert-north", "SN"}, {"isp-south", "red", "", "S"},
		{"vendor-east", "clear", "", "NSE"}, {"vendor-east", "green", "", "NSE"}, {"vendor-east", "amber", "", "SE"},
		{"vendor-east", "amber+strict", "", "E"}, {"vendor-east", "red", "cert-north", "EN"}, {"vendor-east", "red", "", "E"},
	}
	letter := map[string]string{"N": "cert-north", "S": "isp-south", "E": "vendor-east"}
	var all []posted
	for _, r := range rows {
		level, err := parseTLP(r.level)
		if err != nil {
			t.Fatal(err)
		}
		id := newID()
		var recips []string
		if r.recipient != "" {
			recips = []string{r.recipient}
		}
		if st := e.post(readers[r.poster], collClear, marked(id, level, recips...)); st.SuccessCount != 1 {
			t.Fatalf("%+v: %+v", r, st)
		}
		e.clock.advance(time.Millisecond)
		p := posted{id: id}
		for _, l := range r.seen {
			p.seen = append(p.seen, letter[string(l)])
		}
		all = append(all, p)
	}
	checkAudiences(t, e, collClear, all)
}

// TestTLPFloors posts unmarked objects, and objects marked below the
// floor, to the collection of each level: each is served at the floor.
func TestTLPFloors(t *testing.T) {
	e := example(t)
	audiences := map[string]map[string]string{ // collection -> poster -> who sees an unmarked object
		collGreen:       {"cert-north": "NS", "isp-south": "NS", "vendor-east": "NSE"},
		collAmber:       {"cert-north": "NS", "isp-south": "NSE", "vendor-east": "SE"},
		collAmberStrict: {"cert-north": "N", "isp-south": "S", "vendor-east": "E"},
		collRed:         {"cert-north": "N", "isp-south": "S", "vendor-east": "E"},
	}
	letter := map[rune]string{'N': "cert-north", 'S': "isp-south", 'E': "vendor-east"}
	for coll, byPoster := range audiences {
		var all []posted
		for _, poster := range []string{"cert-north", "isp-south", "vendor-east"} {
			for _, obj := range []func(string) []byte{
				func(id string) []byte { return stix(id, day, nil) },
				func(id string) []byte { return marked(id, Clear) },
			} {
				id := newID()
				if st := e.post(readers[poster], coll, obj(id)); st.SuccessCount != 1 {
					t.Fatalf("%s to %s: %+v", poster, coll, st)
				}
				p := posted{id: id}
				for _, l := range byPoster[poster] {
					p.seen = append(p.seen, letter[l])
				}
				all = append(all, p)
			}
		}
		checkAudiences(t, e, coll, all)
	}
	// RED recipients in the RED collection, unmarked.
	id := newID()
	e.post(east, collRed, stix(id, day, map[string]any{RecipientsProperty: []string{"isp-south"}}))
	e.get(south, objectsPath(collRed)+id+"/", 200)
	e.get(north, objectsPath(collRed)+id+"/", 404)
}

// TestTLPVersions: an object whose first version is GREEN and second
// AMBER+STRICT: the others see the first as its last version, and only
// it in versions; the poster sees both.
func TestTLPVersions(t *testing.T) {
	e := example(t)
	id := newID()
	e.post(north, collClear, marked(id, Green))
	e.clock.advance(time.Second)
	e.post(north, collClear, stix(id, day.Add(time.Hour), map[string]any{"object_marking_refs": []string{MarkingID(AmberStrict)}}))
	for _, c := range []struct {
		w        who
		versions []string
	}{{north, []string{"2001-07-19T00:00:00.000Z", "2001-07-19T01:00:00.000Z"}}, {south, []string{"2001-07-19T00:00:00.000Z"}}} {
		v := decode[struct{ Versions []string }](t, e.get(c.w, objectsPath(collClear)+id+"/versions/", 200).body)
		if !slices.Equal(v.Versions, c.versions) {
			t.Errorf("versions %v, want %v", v.Versions, c.versions)
		}
		last := c.versions[len(c.versions)-1]
		if got := decode[envelope](t, e.get(c.w, objectsPath(collClear), 200).body).ids(); !slices.Equal(got, []string{id + "@" + last}) {
			t.Errorf("objects %v, want the last version it may see, %s", got, last)
		}
		if got := decode[envelope](t, e.get(c.w, objectsPath(collClear)+id+"/?match[version]=all", 200).body); len(got.Objects) != len(c.versions) {
			t.Errorf("object, all versions: %d, want %d", len(got.Objects), len(c.versions))
		}
	}
	e.get(east, objectsPath(collClear)+id+"/versions/", 404)
	e.get(east, objectsPath(collClear)+id+"/", 404)
}

// checkAudiences checks, for each member, every endpoint against the
// objects it must see.
func checkAudiences(t *testing.T, e *env, coll string, all []posted) {
	t.Helper()
	for name, w := range readers {
		var want []string
		for _, p := range all {
			if slices.Contains(p.seen, name) {
				want = append(want, p.id)
			}
		}
		sort.Strings(want)
		for via, got := range views(e, w, coll, all) {
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s in %s via %s: sees %d objects %v, want %d %v", name, coll, via, len(got), got, len(want), want)
			}
		}
	}
}

// views lists the object ids a member gets from each endpoint.
func views(e *env, w who, coll string, all []posted) map[string][]string {
	out := map[string][]string{"object": nil, "versions": nil, "manifest": nil}
	idsOf := func(en envelope) []string {
		var ids []string
		for _, s := range en.ids() {
			ids = append(ids, s[:strings.IndexByte(s, '@')])
		}
		return ids
	}
	out["objects"] = idsOf(decode[envelope](e.t, e.get(w, objectsPath(coll), 200).body))
	out["objects, all versions"] = idsOf(decode[envelope](e.t, e.get(w, objectsPath(coll)+"?match[version]=all", 200).body))
	out["objects, match[type]"] = idsOf(decode[envelope](e.t, e.get(w, objectsPath(coll)+"?match[type]=indicator,malware", 200).body))
	out["objects, added_after"] = idsOf(decode[envelope](e.t, e.get(w, objectsPath(coll)+"?added_after="+url.QueryEscape("2000-01-01T00:00:00Z"), 200).body))
	var paged []string
	for q := "limit=1"; ; {
		en := decode[envelope](e.t, e.get(w, objectsPath(coll)+"?"+q, 200).body)
		paged = append(paged, idsOf(en)...)
		if !en.More {
			break
		}
		q = "limit=1&next=" + en.Next
	}
	out["objects, pages of 1"] = paged
	m := decode[struct {
		Objects []struct{ ID string } `json:"objects"`
	}](e.t, e.get(w, root+"collections/"+coll+"/manifest/", 200).body)
	for _, o := range m.Objects {
		out["manifest"] = append(out["manifest"], o.ID)
	}
	var ids []string
	for _, p := range all {
		ids = append(ids, p.id)
	}
	out["objects, match[id]"] = idsOf(decode[envelope](e.t, e.get(w, objectsPath(coll)+"?match[id]="+strings.Join(ids, ","), 200).body))
	for _, p := range all {
		for via, path := range map[string]string{"object": p.id + "/", "versions": p.id + "/versions/"} {
			r := e.req(w, "GET", objectsPath(coll)+path, nil)
			switch r.status {
			case 200:
				out[via] = append(out[via], p.id)
			case 404:
			default:
				e.t.Fatalf("GET %s: status %d", path, r.status)
			}
		}
	}
	return out
}
