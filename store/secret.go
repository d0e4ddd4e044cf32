package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
)

// Webhook secrets are made by Baton (NewWebhookSecret), shown once, and
// stored sealed with AES-256-GCM under the key the operator gives
// (BATON_SECRET_KEY, DB.SecretKey), so that a copy of the database does not
// give them away. Without a key they are stored as they are, as they were
// before keys; a sealed secret read without the key is an error that says
// what to set.

// sealedPrefix starts a sealed secret: the version of the scheme, then
// base64 of the nonce and the ciphertext.
const sealedPrefix = "sealed:v1:"

// ParseSecretKey reads BATON_SECRET_KEY: 32 bytes in standard base64.
func ParseSecretKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("BATON_SECRET_KEY must be 32 bytes in base64 (openssl rand -base64 32)")
	}
	return key, nil
}

// NewWebhookSecret makes a signing secret: 32 random bytes, as whsec_ and
// standard base64, the form Standard Webhooks libraries take (secrets made
// before were URL-safe base64 without padding, which those libraries cannot
// decode: a rotation gives one they can).
func NewWebhookSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:]), nil
}

// seal returns the stored form of a secret.
func (db *DB) seal(secret string) (string, error) {
	if len(db.SecretKey) == 0 || secret == "" {
		return secret, nil
	}
	gcm, err := db.gcm()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(secret), nil)), nil
}

// unseal returns the secret of its stored form.
func (db *DB) unseal(stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil
	}
	if len(db.SecretKey) == 0 {
		return "", baton.Errorf(baton.EUNAVAILABLE, "webhook secrets are sealed: start Baton with the BATON_SECRET_KEY they were sealed with")
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	gcm, gerr := db.gcm()
	if err != nil || gerr != nil || len(raw) < gcm.NonceSize() {
		return "", fmt.Errorf("unseal a webhook secret: malformed")
	}
	plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], nil)
	if err != nil {
		return "", baton.Errorf(baton.EUNAVAILABLE, "a webhook secret does not open with this BATON_SECRET_KEY: start Baton with the key it was sealed with")
	}
	return string(plain), nil
}

func (db *DB) gcm() (cipher.AEAD, error) {
	block, err := aes.NewCipher(db.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return cipher.NewGCM(block)
}
