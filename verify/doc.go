// Package verify is the offline verifier of sealed PDFs: it answers whether
// a PDF is validly sealed, as it is displayed now, trusting only the roots
// and CRLs it is given. Citizens, banks and courts run it through
// `sealctl verify`, the service runs it behind VerificationService, and it
// is built to run in a browser too: it touches no network, clock (but
// Options.Now), storage or key.
//
// PDF checks every signature's byte range, digest, signature, chain,
// revocation and what each later revision changed, and fails closed:
// whatever it cannot parse or check is not valid. It reads signed
// revisions strictly (package pdf's revision analysis), never through the
// lenient reader used to seal, and within Options.Limits: a file that
// needs more memory or work to read is not valid either (CodeTooLarge).
// It stops when its context ends.
package verify
