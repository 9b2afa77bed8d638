package notify

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Entry is one line of the ledger: a notice sent, or not sent and why.
type Entry struct {
	Time      time.Time `json:"time"`                 // when it was sent or given up
	Status    string    `json:"status"`               // sent, failed, no_contact or reported (every address already reported in the window)
	Owner     string    `json:"owner"`                // the owner's Key
	Name      string    `json:"name"`                 // the owner's name
	To        string    `json:"to,omitempty"`         // the contact
	MessageID string    `json:"message_id,omitempty"` // the message's Message-ID
	SHA256    string    `json:"sha256,omitempty"`     // of the message as sent
	Reply     string    `json:"reply,omitempty"`      // the server's reply to the message, or the error
	Addresses []string  `json:"addresses"`            // the addresses the message reported (or would have)
	Skipped   int       `json:"skipped,omitempty"`    // addresses left out: reported in the window already
	Requests  int64     `json:"requests"`             // requests seen from the addresses reported
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Families  []string  `json:"families"`
}

// The statuses of a ledger entry.
const (
	StatusSent      = "sent"
	StatusFailed    = "failed"
	StatusNoContact = "no_contact"
	StatusReported  = "reported"
)

// Ledger records every notice sent or not sent. LedgerFile keeps it as
// JSON lines; `wormwatch serve` may keep it in its own store.
type Ledger interface {
	Record(Entry) error
}

// LedgerFile is a Ledger in a file of JSON lines, one Entry a line,
// appended and synced one at a time: an operator reads it with any text
// tool (jq 'select(.status == "sent")').
type LedgerFile struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// OpenLedger opens the ledger at path for appending, creating it if needed.
func OpenLedger(path string) (*LedgerFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	return &LedgerFile{f: f, path: path}, nil
}

// Record appends an entry and syncs the file.
func (l *LedgerFile) Record(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("ledger %s: %w", l.path, err)
	}
	return nil
}

// Close closes the file.
func (l *LedgerFile) Close() error { return l.f.Close() }
