package cms

import (
	"errors"
	"fmt"
)

// Errors from parsing. Each names the part of the structure that failed, so
// a caller (and the person reading a verification report) learns what is
// wrong, not merely that something is.
var (
	// ErrMalformed wraps every structural failure; use errors.Is on it to
	// ask "is this not a well-formed SignedData at all?".
	ErrMalformed = errors.New("cms: malformed SignedData")
	// ErrTrailingData means bytes follow the DER ContentInfo.
	ErrTrailingData = fmt.Errorf("%w: trailing data after ContentInfo", ErrMalformed)
	// ErrNotSignedData means the ContentInfo holds another content type.
	ErrNotSignedData = fmt.Errorf("%w: content type is not signedData", ErrMalformed)
	// ErrNotDetached means the SignedData embeds its content; PDF signatures
	// are detached.
	ErrNotDetached = fmt.Errorf("%w: encapsulated content present, want detached", ErrMalformed)
	// ErrNoSigner means the SignedData has no SignerInfo.
	ErrNoSigner = fmt.Errorf("%w: no signer", ErrMalformed)
	// ErrMultipleSigners means more than one SignerInfo where one is expected.
	ErrMultipleSigners = fmt.Errorf("%w: more than one signer", ErrMalformed)
	// ErrSignerCertNotFound means no embedded certificate matches the
	// SignerInfo's identifier.
	ErrSignerCertNotFound = fmt.Errorf("%w: signer certificate not among the embedded certificates", ErrMalformed)
	// ErrMissingMessageDigest means signed attributes are present without a
	// single message-digest attribute.
	ErrMissingMessageDigest = fmt.Errorf("%w: signed attributes lack a single message-digest", ErrMalformed)
	// ErrMissingContentType means signed attributes are present without a
	// single content-type attribute, or it disagrees with eContentType.
	ErrMissingContentType = fmt.Errorf("%w: signed attributes lack a content-type matching eContentType", ErrMalformed)
	// ErrDuplicateAttribute means a signed attribute appears twice.
	ErrDuplicateAttribute = fmt.Errorf("%w: duplicate signed attribute", ErrMalformed)
)

// Errors from checking.
var (
	// ErrUnsupportedAlgorithm means a digest or signature algorithm that this
	// package does not implement, or an SM2 signature algorithm paired with a
	// digest other than SM3.
	ErrUnsupportedAlgorithm = errors.New("cms: unsupported algorithm")
	// ErrAlgorithmNotAccepted means a known algorithm the caller did not
	// accept, for example an RSA signature where SM2 is required.
	ErrAlgorithmNotAccepted = errors.New("cms: signature algorithm not accepted")
	// ErrDigestMismatch means the content's digest differs from the signed
	// message-digest: the content changed after signing.
	ErrDigestMismatch = errors.New("cms: content digest does not match the signed message-digest")
	// ErrBadSignature means the signature does not verify under the signer
	// certificate's public key.
	ErrBadSignature = errors.New("cms: signature does not verify")
	// ErrSigningCertMismatch means the ESS signing-certificate attribute
	// names a certificate other than the one that verifies the signature.
	ErrSigningCertMismatch = errors.New("cms: ESS signing-certificate does not match the signer certificate")
	// ErrNeedContent means a signature without signed attributes can only be
	// checked against the content itself, not a precomputed digest.
	ErrNeedContent = errors.New("cms: signature has no signed attributes; the content is needed, not a digest")
)

// Errors from signing.
var (
	// ErrNotSM2Key means the signer's public key is not on the SM2 curve.
	ErrNotSM2Key = errors.New("cms: signing key is not an SM2 key")
	// ErrKeyCertMismatch means the signing key does not match the first
	// certificate of the chain.
	ErrKeyCertMismatch = errors.New("cms: signing key does not match the signer certificate")
	// ErrBadDigest means SignDigest was given a digest that is not 32 bytes.
	ErrBadDigest = errors.New("cms: digest is not an SM3 digest (32 bytes)")
)

func malformed(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	return fmt.Errorf("%w: %s", ErrMalformed, what)
}
