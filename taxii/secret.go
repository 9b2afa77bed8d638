package taxii

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// DefaultIterations is the PBKDF2 iteration count HashPassword uses when
// given 0: OWASP's figure for PBKDF2-HMAC-SHA256 (2023).
const DefaultIterations = 600_000

// passwordHash is a parsed pbkdf2_sha256$ITERATIONS$SALT$BASE64 string.
type passwordHash struct {
	iter int
	salt string
	key  []byte
}

// HashPassword returns password hashed for a member's password_hash:
// pbkdf2_sha256$ITERATIONS$SALT$BASE64, the format Django uses (PBKDF2 with
// HMAC-SHA256, a 32-byte key in standard base64, a random salt of 16
// letters and digits). iterations 0 means DefaultIterations.
func HashPassword(password string, iterations int) (string, error) {
	if iterations == 0 {
		iterations = DefaultIterations
	}
	if iterations < 1000 {
		return "", fmt.Errorf("%d iterations are too few (want at least 1000)", iterations)
	}
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	key, err := pbkdf2.Key(sha256.New, password, b, iterations, sha256.Size)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iterations, b, base64.StdEncoding.EncodeToString(key)), nil
}

// HashToken returns the hex SHA-256 of a bearer token or a certificate's
// DER bytes, the form token_sha256 and cert_sha256 hold.
func HashToken(token []byte) string {
	sum := sha256.Sum256(token)
	return hex.EncodeToString(sum[:])
}

// parsePasswordHash reads a password_hash.
func parsePasswordHash(s string) (passwordHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2_sha256" {
		return passwordHash{}, fmt.Errorf("want pbkdf2_sha256$ITERATIONS$SALT$BASE64")
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1000 || iter > 100_000_000 {
		return passwordHash{}, fmt.Errorf("iterations %q: want a number from 1000 to 100000000", parts[1])
	}
	key, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil || len(key) != sha256.Size {
		return passwordHash{}, fmt.Errorf("the key is not 32 bytes in standard base64")
	}
	if parts[2] == "" {
		return passwordHash{}, fmt.Errorf("empty salt")
	}
	return passwordHash{iter: iter, salt: parts[2], key: key}, nil
}

// verify derives the key of password and compares it with h's in
// constant time.
func (h passwordHash) verify(password string) bool {
	key, err := pbkdf2.Key(sha256.New, password, []byte(h.salt), h.iter, sha256.Size)
	return err == nil && subtle.ConstantTimeCompare(key, h.key) == 1
}

// parseSHA256 reads 64 hex digits.
func parseSHA256(s string) ([sha256.Size]byte, error) {
	var out [sha256.Size]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return out, fmt.Errorf("%q: want 64 hex digits (a SHA-256)", s)
	}
	copy(out[:], b)
	return out, nil
}
