package keystore

// SealSecret encrypts a secret that is not a signing key (a receiver's
// bearer token or client key, say) as the backend seals keys: an SM4-GCM
// envelope under a fresh data key wrapped by the KEK, bound to ref, so
// that it opens only under this KEK and for this ref.
func (b *SoftwareBackend) SealSecret(ref KeyRef, plaintext []byte) ([]byte, error) {
	return sealEnvelope(b.kek.Load(), ref, plaintext)
}

// OpenSecret returns the secret SealSecret sealed for ref. Another KEK
// gives ErrWrongKEK; another ref or a changed envelope ErrKeyCorrupt.
func (b *SoftwareBackend) OpenSecret(ref KeyRef, sealed []byte) ([]byte, error) {
	return openEnvelope(b.kek.Load(), ref, sealed)
}
