// Package keystore holds the township seal keys and the county seal CA.
//
// In the county's reform each township government has exactly one seal. This
// package makes that seal (制章), keeps its SM2 private key, and carries it
// through its life: issued, active, suspended (挂失) and resumed, and finally
// rotated (replaced by a new key) or revoked (注销). It also runs the county
// seal CA: it creates an SM2 root or imports a licensed CA's certificate chain
// and key, signs seal certificates, produces CSRs for an external CA, accepts
// the certificates that CA issues, and publishes a CRL and the trust bundle.
// It also keeps the key that signs the sealing ledger's checkpoints
// (LedgerSigner): a key of its own, certified by the CA for that one use
// (certificate policy LedgerKeyPolicyOID), so that the CA key signs only
// certificates and CRLs.
//
// Custody rules:
//   - Private keys are generated inside a KeyBackend with crypto/rand. The
//     first backend, SoftwareBackend, keeps each key as an envelope: a fresh
//     SM4 data key encrypts the PKCS#8 key with SM4-GCM, and the data key is
//     wrapped under the key-encryption key (KEK). The KEK comes from
//     configuration (a 0600 file or an environment variable) and is never
//     written to the Store. Every ciphertext is bound to its key id and owner
//     through the AEAD additional data, so rows cannot be swapped.
//   - No function returns, logs or stores a private key in the clear. Callers
//     get a SealSigner, a crypto.Signer that signs exactly like
//     *sm2.PrivateKey from github.com/emmansun/gmsm, and that refuses to sign
//     once its seal is suspended, rotated or revoked.
//   - A hardware module can replace SoftwareBackend by implementing
//     KeyBackend; callers do not change.
//
// What it touches: the Store it is given (store/sqlite for one machine,
// store/postgres for replicas sharing a database), the
// KeyBackend it is given, crypto/rand, and, through LoadKEKFile and
// WriteKEKFile, the one KEK file named by the caller. It opens no network
// connections and writes no other files.
//
// Concurrency: a Keystore is safe for concurrent use. Signing with one seal
// from many goroutines takes no lock: decrypted keys are cached per seal, and
// a signer checks its seal's state with one atomic load. Rotating or revoking
// a seal while it signs is safe: a signature already in progress completes
// with the key it started with, and later ones are refused.
package keystore
