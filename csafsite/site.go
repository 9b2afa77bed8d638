package csafsite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"wormwatch/share"

	"wormwatch/internal/atomicfile"
)

// Folder is the site's folder in the data folder: <data>/csaf, mode 0700
// (it may hold the generated private key).
const Folder = "csaf"

// tlpFolder is the TLP folder of the served advisories (CSAF 2.0: white).
const tlpFolder = "white"

// Site is a CSAF 2.0 trusted provider: the advisories of the operator's
// folder and those published at run time, with their hashes, signatures,
// indexes and feeds, served by Handler. Its methods are safe for
// concurrent use.
type Site struct {
	cfg    Config
	base   *url.URL
	dir    string // <data>/csaf
	key    *signer
	logger *slog.Logger

	mu         sync.Mutex           // serialises Publish
	advisories map[string]*advisory // by file name
	snap       atomic.Pointer[snapshot]
}

// New opens the site: it checks cfg, loads (or makes) the signing key,
// reads the advisories published earlier (<data>/csaf/advisories) and those
// of cfg.Folder, signs them all and builds the documents it serves. An
// advisory of either folder that fails Publish's checks is an error that
// names its file, as is a tracking id found twice. logger may be nil.
func New(cfg Config, dataDir string, logger *slog.Logger) (*Site, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.Enabled() {
		return nil, errors.New("csaf: base_url is empty: no site to serve")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("csaf: %w", err)
	}
	base, _ := baseURL(cfg.BaseURL)
	s := &Site{cfg: cfg, base: base, dir: filepath.Join(dataDir, Folder), logger: logger, advisories: map[string]*advisory{}}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("csaf: %w", err)
	}
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("csaf: %w", err)
	}
	var err error
	if s.key, err = loadKey(cfg, s.dir, logger); err != nil {
		return nil, fmt.Errorf("csaf: %w", err)
	}
	if err := s.loadStore(); err != nil {
		return nil, fmt.Errorf("csaf: %w", err)
	}
	if cfg.Folder != "" {
		if err := s.loadFolder(cfg.Folder); err != nil {
			return nil, fmt.Errorf("csaf: folder %s: %w", cfg.Folder, err)
		}
	}
	for _, a := range s.advisories {
		if a.sig, err = s.key.sign(a.body); err != nil {
			return nil, fmt.Errorf("csaf: %s: %w", a.source, err)
		}
	}
	s.snap.Store(s.build())
	logger.Info("csaf: site ready", "advisories", len(s.advisories), "provider_metadata", s.pmdURL(), "fingerprint", s.key.fingerprint)
	return s, nil
}

// storeDir is where published advisories are kept: one file each, at the
// path the site serves them under its TLP folder.
func (s *Site) storeDir() string { return filepath.Join(s.dir, "advisories", tlpFolder) }

// readTree reads every *.json file under root (hidden names, and so
// atomicfile's temporary files, skipped) through fn, in lexical order.
func (s *Site) readTree(root string, fn func(path string, a *advisory) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return nil
			}
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return leftover(p, root == s.storeDir())
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		body, info, err := readFile(p)
		if err != nil {
			return err
		}
		a, err := parse(body, s.cfg.MaxBytes)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		a.source, a.modTime = p, info.ModTime().UTC()
		return fn(p, a)
	})
}

// leftover removes, from the data folder only (store), a temporary file
// of atomicfile that a kill left behind.
func leftover(p string, store bool) error {
	if !store || !strings.Contains(filepath.Base(p), atomicfile.PartialInfix) {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// readFile reads a file and its metadata.
func readFile(p string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(f)
	return body, info, err
}

// loadStore reads the advisories published at run time. Two files of one
// tracking id are what a stop between writing a revision into a new year
// folder and removing the old file leaves: the later revision is kept and
// the other removed.
func (s *Site) loadStore() error {
	return s.readTree(s.storeDir(), func(p string, a *advisory) error {
		if rel, _ := filepath.Rel(s.storeDir(), p); filepath.ToSlash(rel) != a.path() {
			return fmt.Errorf("%s: holds advisory %s, whose place is %s", p, a.id, a.path())
		}
		old := s.advisories[a.name]
		switch {
		case old == nil:
		case old.id != a.id:
			return fmt.Errorf("%s and %s: tracking ids %q and %q have the same file name", old.source, p, old.id, a.id)
		case a.current.After(old.current):
			s.logger.Warn("csaf: removing an older revision left by a stop", "file", old.source)
			if err := os.Remove(old.source); err != nil {
				return err
			}
		default:
			s.logger.Warn("csaf: removing an older revision left by a stop", "file", p)
			return os.Remove(p)
		}
		s.advisories[a.name] = a
		return nil
	})
}

// loadFolder reads the operator's folder: a tracking id may appear once
// there and not among the advisories published at run time.
func (s *Site) loadFolder(root string) error {
	return s.readTree(root, func(p string, a *advisory) error {
		if old := s.advisories[a.name]; old != nil {
			return fmt.Errorf("%s: advisory %s is also in %s (tracking id %q): keep one", p, a.id, old.source, old.id)
		}
		a.fromFolder = true
		s.advisories[a.name] = a
		return nil
	})
}

// Publish validates a CSAF 2.0 document and publishes it: it is written to
// the data folder (atomically: a stop at any moment leaves the old state or
// the new), signed, and served with its hashes, in the indexes and the
// feed, from the next request on. It returns the advisory's URL.
//
// A document that is refused wraps ErrRefused: too large, not UTF-8 JSON
// (or with a member named twice), not valid against the CSAF 2.0 schema,
// not TLP:WHITE, a draft, a tracking id of the operator's folder, or an
// older or equal revision of a published advisory (a new revision of an
// advisory needs a later current_release_date). Publishing the same bytes
// again changes nothing and succeeds.
func (s *Site) Publish(doc []byte) (string, error) {
	a, err := parse(doc, s.cfg.MaxBytes)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.advisories[a.name]
	if old != nil {
		if err := replaceable(old, a); err != nil {
			return "", err
		}
		if bytes.Equal(old.body, a.body) {
			return s.advisoryURL(old), nil
		}
	}
	if a.sig, err = s.key.sign(a.body); err != nil {
		return "", err
	}
	if err := s.store(a); err != nil {
		return "", err
	}
	if old != nil && old.source != a.source {
		if err := os.Remove(old.source); err != nil {
			s.logger.Warn("csaf: could not remove the older revision", "file", old.source, "err", err)
		}
	}
	s.advisories[a.name] = a
	s.snap.Store(s.build())
	s.logger.Info("csaf: published", "id", a.id, "url", s.advisoryURL(a), "revision_of", old != nil)
	return s.advisoryURL(a), nil
}

// replaceable says whether a may replace the published old of the same
// file name.
func replaceable(old, a *advisory) error {
	switch {
	case bytes.Equal(old.body, a.body):
		return nil
	case old.fromFolder:
		return refuse("%s comes from the operator's folder (%s): change it there", a.id, old.source)
	case old.id != a.id:
		return refuse("tracking id %q has the file name %s of the published advisory %q", a.id, a.name, old.id)
	case !a.current.After(old.current):
		return refuse("%s is published with current_release_date %s: a new revision needs a later one (this one has %s)",
			a.id, old.current.UTC().Format("2006-01-02T15:04:05Z"), a.current.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return nil
}

// store writes a published advisory to the data folder.
func (s *Site) store(a *advisory) error {
	p := filepath.Join(s.storeDir(), filepath.FromSlash(a.path()))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(p, func(w io.Writer) error { _, err := w.Write(a.body); return err }); err != nil {
		return err
	}
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	a.source, a.modTime = p, info.ModTime().UTC()
	return nil
}

// Fingerprint is the signing key's fingerprint (upper-case hex), as
// provider-metadata.json lists it.
func (s *Site) Fingerprint() string { return s.key.fingerprint }

// ProviderMetadataURL is the canonical URL of provider-metadata.json.
func (s *Site) ProviderMetadataURL() string { return s.pmdURL() }

// Len is the number of advisories served.
func (s *Site) Len() int { return len(s.snap.Load().entries) }

// Published returns the URL of the advisory with the tracking id, if the
// site serves one.
func (s *Site) Published(trackingID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.advisories[share.CSAFFileName(trackingID)]
	if a == nil || a.id != trackingID {
		return "", false
	}
	return s.advisoryURL(a), true
}
