package csafsite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"wormwatch/internal/atomicfile"
)

// KeyFileName is the generated signing key's file in the site's folder of
// the data folder (<data>/csaf/signing-key.asc): the armored private key,
// unencrypted, mode 0600. It is made at the first start when no key_file is
// configured and used at every start after.
const KeyFileName = "signing-key.asc"

// signer is the OpenPGP key that signs the advisories.
type signer struct {
	entity      *openpgp.Entity
	fingerprint string // the primary key's fingerprint, upper-case hex
	public      []byte // the armored public key (transferable public key)
	created     time.Time
}

// loadKey reads the configured key_file, or the generated key of the data
// folder, generating it at the first start.
func loadKey(cfg Config, dir string, logger *slog.Logger) (*signer, error) {
	if cfg.KeyFile != "" {
		var pass []byte
		if cfg.KeyPassphraseFile != "" {
			b, err := os.ReadFile(cfg.KeyPassphraseFile)
			if err != nil {
				return nil, fmt.Errorf("key_passphrase_file: %w", err)
			}
			pass = []byte(strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r"))
		}
		return readKey(cfg.KeyFile, pass)
	}
	path := filepath.Join(dir, KeyFileName)
	s, err := readKey(path, nil)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, err
	}
	e, err := openpgp.NewEntity(cfg.PublisherName, "CSAF signing key", "", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		return nil, fmt.Errorf("generating the signing key: %w", err)
	}
	err = writeArmored(path, openpgp.PrivateKeyType, func(w io.Writer) error { return e.SerializePrivate(w, nil) }, 0o600)
	if err != nil {
		return nil, fmt.Errorf("storing the generated signing key: %w", err)
	}
	s, err = newSigner(e)
	if err == nil {
		logger.Info("csaf: generated an OpenPGP signing key", "file", path, "fingerprint", s.fingerprint)
	}
	return s, err
}

// writeArmored writes an armored OpenPGP block atomically with the given
// file mode.
func writeArmored(path, blockType string, body func(io.Writer) error, mode os.FileMode) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		aw, err := armor.Encode(w, blockType, nil)
		if err != nil {
			return err
		}
		if err := body(aw); err != nil {
			return err
		}
		return aw.Close()
	})
	if err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// readKey reads an armored private key file: its first key that can sign,
// decrypted with pass when it is encrypted.
func readKey(path string, pass []byte) (*signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	defer f.Close()
	list, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: not an armored OpenPGP key: %w", path, err)
	}
	for _, e := range list {
		if e.PrivateKey == nil {
			continue
		}
		if e.PrivateKey.Encrypted {
			if pass == nil {
				return nil, fmt.Errorf("signing key %s is encrypted: give key_passphrase_file", path)
			}
			if err := e.DecryptPrivateKeys(pass); err != nil {
				return nil, fmt.Errorf("signing key %s: cannot decrypt it with the passphrase of key_passphrase_file (a wrong passphrase?): %w", path, err)
			}
		}
		if _, ok := e.SigningKey(time.Now()); ok {
			return newSigner(e)
		}
	}
	return nil, fmt.Errorf("signing key %s holds no private key that can sign now (a public key only, or expired or revoked)", path)
}

// newSigner derives what the site publishes of a key.
func newSigner(e *openpgp.Entity) (*signer, error) {
	var pub bytes.Buffer
	aw, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err == nil {
		err = e.Serialize(aw)
	}
	if err == nil {
		err = aw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("serialising the public key: %w", err)
	}
	return &signer{
		entity:      e,
		fingerprint: fmt.Sprintf("%X", e.PrimaryKey.Fingerprint),
		public:      pub.Bytes(),
		created:     e.PrimaryKey.CreationTime,
	}, nil
}

// sign returns the armored detached signature of body.
func (s *signer) sign(body []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, s.entity, bytes.NewReader(body), nil); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
