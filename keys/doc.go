// Package keys manages the keys that seal carebook's protected health
// information at rest. All cryptography is tink-go's
// (github.com/tink-crypto/tink-go/v2); this package writes none.
//
// Keys come in two layers:
//
//   - A master key, given by a Provider (a key file for `make run` and
//     tests, a KMS or Vault adapter in production). It only wraps keysets;
//     no data is ever sealed with it.
//   - Per practice, two tink keysets wrapped by the master key with the
//     practice's ID and the keyset's purpose bound in as associated data:
//     an AES256-GCM AEAD keyset that seals fields (Service.Seal and
//     Service.Open) and an HMAC-SHA256 PRF keyset that makes blind indexes
//     (Service.BlindIndex). A Store keeps the wrapped keysets.
//
// A sealed field is tink's AEAD ciphertext as it is: a version byte and the
// 4-byte ID of the key that sealed it, a 12-byte nonce, the ciphertext and a
// 16-byte tag (45 bytes more than the plaintext). Its associated data binds
// it to its practice, table, column and row (see Binding), so a ciphertext
// copied to another row, column or practice does not open.
//
// Rotation (Service.Rotate) adds a new key to a practice's AEAD keyset and
// makes it primary: new seals use it, old ciphertexts still open by the key
// ID they carry. Rotating the master key (Service.RotateMaster) unwraps
// every practice's keysets with the old master key and wraps them again
// with the new one; it rewrites no data. Shredding a practice
// (Service.Shred) destroys its keysets, after which nothing sealed for it
// can ever be opened again.
package keys
