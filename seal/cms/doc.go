// Package cms builds and verifies detached CMS SignedData (RFC 5652) with
// SM2 signatures and SM3 digests, the signature format that PDF seals carry
// in their /Contents string.
//
// Signing writes one of two profiles:
//
//   - ProfileDefault: the standard PKCS#7 content types with the
//     SM3withSM2 signature algorithm 1.2.156.10197.1.501. BouncyCastle, and
//     so iText and PDFBox, verify this profile; it is the default because the
//     documents we seal are checked by Java stacks.
//   - ProfileGMT0010: the GM/T 0010 content types 1.2.156.10197.6.1.4.2.x and
//     the sm2-1 signature algorithm 1.2.156.10197.1.301.1.
//
// Both profiles carry the content-type, message-digest, signing-time and ESS
// signing-certificate-v2 (SM3 certificate hash) signed attributes, and the
// signer's certificate chain. SM2 signatures use the default user ID
// 1234567812345678.
//
// Verification accepts both profiles and both SM2 signature identifiers,
// with or without signed attributes, and, when the caller allows it, RSA and
// ECDSA signatures. It fails closed: anything it cannot parse or check is an
// error that names what failed. It does not build or trust certificate
// chains; that is the caller's job, with the certificates it reports.
//
// The package touches no files, keys or network: it works on bytes, a
// crypto.Signer and certificates given by the caller.
package cms
