// Package ses builds, parses and verifies the electronic seal data of
// GB/T 38540-2020 (安全电子签章密码技术规范), version 4: SESeal, the seal
// that a seal maker (制章者) makes and signs, holding the seal's picture,
// properties, validity and the certificates of its holder; and
// SES_Signature, a signature made with that seal over a document.
//
// Both are DER. Signatures are SM3withSM2 (1.2.156.10197.1.501) with the
// default SM2 user ID, over the DER of SES_SealInfo (the maker's) and of
// TBS_Sign (the holder's). The structures follow the standard's ASN.1; a
// second decoder in the tests, written from the standard with
// encoding/asn1, reads what this package writes.
//
// The package touches no files, keys or network: it works on bytes, a
// crypto.Signer and certificates given by the caller. Whether the maker's
// certificate chains to a trust anchor is the caller's question.
package ses
