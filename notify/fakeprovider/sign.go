package fakeprovider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"net/url"
	"sort"
	"strings"
)

// SignTwilio computes the X-Twilio-Signature Twilio sends with a webhook
// request to url carrying the POST form: the base64 HMAC-SHA1, keyed with the
// auth token, of the URL followed by every form key and value, the keys in
// sorted order (for a key given twice, each value in sorted order). For a
// GET request pass a nil form; the query is part of url.
func SignTwilio(authToken, url string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(url)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return SignTwilioText(authToken, b.String())
}

// SignTwilioText is the X-Twilio-Signature of text, the signed text itself
// (the URL, then every key and value with no separator): the base64
// HMAC-SHA1 of it keyed with the auth token. Tests that write the text out
// by hand, such as a re-cut of the parameters, sign it with this.
func SignTwilioText(authToken, text string) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(text))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// EventSigner signs SendGrid event webhook payloads as SendGrid does, with
// its own ECDSA P-256 key. It is safe for concurrent use.
type EventSigner struct {
	key *ecdsa.PrivateKey
	pub string
}

// NewEventSigner makes a signer with a fresh key.
func NewEventSigner() (*EventSigner, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &EventSigner{key: key, pub: base64.StdEncoding.EncodeToString(der)}, nil
}

// PublicKey is the verification key as SendGrid's settings page shows it:
// the base64 of the PKIX (DER) public key.
func (s *EventSigner) PublicKey() string { return s.pub }

// Sign returns the X-Twilio-Email-Event-Webhook-Signature for payload sent
// with timestamp (the X-Twilio-Email-Event-Webhook-Timestamp header, Unix
// seconds): the base64 ASN.1 ECDSA signature of SHA-256(timestamp+payload).
func (s *EventSigner) Sign(payload []byte, timestamp string) string {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, h.Sum(nil))
	if err != nil {
		panic("fakeprovider: ECDSA signing failed: " + err.Error()) // only on a broken random source
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// OtherForm returns the second valid form of sig, an X-Twilio-Email-Event-
// Webhook-Signature: an ECDSA P-256 signature (r, s) is just as valid as
// (r, n−s), n the order of the curve, and anyone can compute one from the
// other without the key. It returns an error if sig is not the base64 DER
// of an ECDSA signature.
func OtherForm(sig string) (string, error) {
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return "", err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil {
		return "", err
	} else if len(rest) > 0 {
		return "", errors.New("fakeprovider: bytes after the signature")
	}
	rs.S.Sub(elliptic.P256().Params().N, rs.S)
	out, err := asn1.Marshal(rs)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(out), nil
}
