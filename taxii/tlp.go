package taxii

import "fmt"

// TLP is a Traffic Light Protocol 2.0 level, from the least restrictive.
type TLP uint8

// The levels of TLP 2.0 (TLP:WHITE of TLP 1.0 is CLEAR).
const (
	Clear TLP = iota
	Green
	Amber
	AmberStrict
	Red
)

var tlpNames = [...]string{"clear", "green", "amber", "amber+strict", "red"}

// String returns the level as the configuration writes it ("amber+strict").
func (t TLP) String() string {
	if int(t) < len(tlpNames) {
		return tlpNames[t]
	}
	return fmt.Sprintf("TLP(%d)", t)
}

// parseTLP reads a level as the configuration writes it.
func parseTLP(s string) (TLP, error) {
	for i, n := range tlpNames {
		if n == s {
			return TLP(i), nil
		}
	}
	return 0, fmt.Errorf("unknown TLP level %q", s)
}

// tlpMarkings are the marking-definition ids of the TLP levels: TLP 2.0's
// (the OASIS objects of the TLP 2.0 extension definition
// extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d) and TLP
// 1.0's of the STIX 2.1 specification (7.2.1.4), which share's writers
// still use: WHITE counts as CLEAR.
var tlpMarkings = map[string]TLP{
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Clear,
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Green,
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Amber,
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": AmberStrict,
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Red,
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Clear, // TLP 1.0 WHITE
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Green, // TLP 1.0
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Amber, // TLP 1.0
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Red,   // TLP 1.0
}

// MarkingID returns the STIX marking-definition id of a TLP 2.0 level.
func MarkingID(t TLP) string {
	return [...]string{
		"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
		"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
		"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	}[t]
}

// RecipientsProperty is the custom property that names the recipients of
// a TLP:RED object: a list of member names. Only the posting organisation
// and these members may read the object. It is refused on objects that are
// not served as RED, and a name that is not a member's is refused.
const RecipientsProperty = "x_tlp_recipients"

// audience is what the visibility of one stored version depends on.
type audience struct {
	tlp        TLP
	poster     int   // member index of the posting organisation; -1 when no longer a member
	recipients []int // RED: member indexes
}

// reader is what one member may see in one collection, precomputed.
type reader struct {
	member    int
	community bool   // kind member: sees GREEN
	peers     []bool // by member: shares a group that reads this collection (AMBER)
	ownOnly   bool   // a member without read rights: its own organisation's versions only
}

// sees reports whether the reader may read a version with audience a:
// the posting organisation always; otherwise CLEAR anyone who reads the
// collection, GREEN the community (members, not guests), AMBER those who
// share with the poster a group that reads the collection, AMBER+STRICT
// nobody else, RED the named recipients.
func (rd *reader) sees(a *audience) bool {
	if a.poster == rd.member {
		return true
	}
	if rd.ownOnly {
		return false
	}
	switch a.tlp {
	case Clear:
		return true
	case Green:
		return rd.community
	case Amber:
		return a.poster >= 0 && rd.peers[a.poster]
	case Red:
		for _, m := range a.recipients {
			if m == rd.member {
				return true
			}
		}
	}
	return false
}
