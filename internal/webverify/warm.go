package webverify

import (
	"crypto/rand"
	"errors"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// Warm runs the SM2 and SM3 code once, with a throwaway key, so that the
// reader's first verification does not pay for their set-up. In the
// browser that set-up (the curve's precomputed tables, and the engine's
// first compilation of those functions) made the first verification of
// the one-page decision take about ten times as long as the next one; the
// page calls Warm once the verifier is ready, while the reader chooses a
// file.
func Warm() error {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	msg := []byte("eseal: warm the verifier")
	sig, err := sm2.SignASN1(rand.Reader, key, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return err
	}
	if !sm2.VerifyASN1WithSM2(&key.PublicKey, nil, msg, sig) {
		return errors.New("webverify: SM2 warm-up signature does not verify")
	}
	_ = sm3.Sum(msg)
	return nil
}
