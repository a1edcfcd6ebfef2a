package cms

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/emmansun/gmsm/sm2"
	"github.com/ronganxian/eseal/internal/testpki"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func oidNode(oid asn1.ObjectIdentifier) *node {
	der, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return &node{tag: cbasn1.OBJECT_IDENTIFIER, content: der[2:]}
}

// TestVerifyMalformed edits valid output into each malformed shape and
// checks that verification fails closed with the error that names it.
func TestVerifyMalformed(t *testing.T) {
	s, _ := newTestSigner(t, ProfileDefault, 2)
	good, err := s.Sign(bytes.NewReader(testContent), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(ci *node)) []byte {
		ci := decodeTree(t, good).clone()
		f(ci)
		return ci.encode()
	}
	attrs := func(ci *node) *node { return signerField(ci, 2) }
	// Signed attributes in our output, in DER order: content-type,
	// signing-time, message-digest, signing-certificate-v2.
	findAttr := func(ci *node, oid asn1.ObjectIdentifier) int {
		want := oidNode(oid).content
		for i, a := range attrs(ci).kids {
			if bytes.Equal(a.kids[0].content, want) {
				return i
			}
		}
		t.Fatalf("attribute %s not in test output", oid)
		return -1
	}
	removeAttr := func(ci *node, oid asn1.ObjectIdentifier) {
		a := attrs(ci)
		i := findAttr(ci, oid)
		a.kids = append(a.kids[:i], a.kids[i+1:]...)
	}

	for _, tc := range []struct {
		name string
		der  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"garbage", []byte("%PDF-1.7 not a signature"), ErrMalformed},
		{"truncated", good[:len(good)-9], ErrMalformed},
		{"trailing garbage", append(append([]byte{}, good...), 0x00, 0x01), ErrTrailingData},
		{"BER indefinite length", append([]byte{0x30, 0x80}, append(good[4:], 0, 0)...), ErrMalformed},
		{"not signedData", edit(func(ci *node) { ci.kids[0] = oidNode(oidData) }), ErrNotSignedData},
		{"two signers", edit(func(ci *node) {
			set := signedDataNode(ci).kids[4]
			set.kids = append(set.kids, set.kids[0].clone())
		}), ErrMultipleSigners},
		{"no signer", edit(func(ci *node) { signedDataNode(ci).kids[4].kids = nil }), ErrNoSigner},
		{"encapsulated content", edit(func(ci *node) {
			encap := signedDataNode(ci).kids[2]
			encap.kids = append(encap.kids, &node{tag: cbasn1.Tag(0).Constructed().ContextSpecific(),
				kids: []*node{{tag: cbasn1.OCTET_STRING, content: testContent}}})
		}), ErrNotDetached},
		{"unknown signature algorithm", edit(func(ci *node) {
			signerField(ci, 1).kids[0] = oidNode(asn1.ObjectIdentifier{1, 2, 3, 4})
		}), ErrUnsupportedAlgorithm},
		{"unknown digest algorithm", edit(func(ci *node) {
			signerField(ci, 3).kids[0] = oidNode(asn1.ObjectIdentifier{1, 2, 3, 5})
		}), ErrUnsupportedAlgorithm},
		{"SM2 with a SHA-256 digest", edit(func(ci *node) {
			signerField(ci, 3).kids[0] = oidNode(oidSHA256)
		}), ErrUnsupportedAlgorithm},
		{"signature algorithm parameters", edit(func(ci *node) {
			alg := signerField(ci, 1)
			alg.kids = append(alg.kids, &node{tag: cbasn1.INTEGER, content: []byte{1}})
		}), ErrUnsupportedAlgorithm},
		{"missing message-digest", edit(func(ci *node) { removeAttr(ci, oidAttrMessageDigest) }), ErrMissingMessageDigest},
		{"missing content-type", edit(func(ci *node) { removeAttr(ci, oidAttrContentType) }), ErrMissingContentType},
		{"content-type not eContentType", edit(func(ci *node) {
			a := attrs(ci).kids[findAttr(ci, oidAttrContentType)]
			a.kids[1].kids[0] = oidNode(oidGMData)
		}), ErrMissingContentType},
		{"duplicate attribute", edit(func(ci *node) {
			a := attrs(ci)
			i := findAttr(ci, oidAttrSigningTime)
			a.kids = append(a.kids[:i+1], a.kids[i:]...)
		}), ErrDuplicateAttribute},
		{"attributes out of DER order", edit(func(ci *node) {
			a := attrs(ci)
			a.kids[0], a.kids[1] = a.kids[1], a.kids[0]
		}), ErrMalformed},
		{"two message digests in one attribute", edit(func(ci *node) {
			a := attrs(ci).kids[findAttr(ci, oidAttrMessageDigest)]
			a.kids[1].kids = append(a.kids[1].kids, a.kids[1].kids[0].clone())
		}), ErrMissingMessageDigest},
		{"no certificates", edit(func(ci *node) {
			sd := signedDataNode(ci)
			sd.kids = append(sd.kids[:3], sd.kids[4:]...)
		}), ErrSignerCertNotFound},
		{"unknown SignerInfo version", edit(func(ci *node) {
			signerInfoNode(ci).kids[0].content = []byte{7}
		}), ErrMalformed},
		{"ESS names another certificate", edit(func(ci *node) {
			a := attrs(ci).kids[findAttr(ci, oidAttrSigningCert2)]
			h := a.kids[1].kids[0].kids[0].kids[0].kids[1] // certs[0].certHash
			h.content[0] ^= 1
		}), ErrSigningCertMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(tc.der, bytes.NewReader(testContent), nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if res.Valid() {
				t.Fatal("malformed input reported valid")
			}
		})
	}
}

// TestVerifyAcceptsBothSM2OIDs swaps the signature OID, which is outside the
// signed attributes, so each profile's envelope is tried with each OID.
func TestVerifyAcceptsBothSM2OIDs(t *testing.T) {
	for _, profile := range []Profile{ProfileDefault, ProfileGMT0010} {
		s, _ := newTestSigner(t, profile, 2)
		der, err := s.Sign(bytes.NewReader(testContent), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, oid := range []asn1.ObjectIdentifier{oidSM3WithSM2, oidSM2Sign} {
			ci := decodeTree(t, der)
			signerField(ci, 1).kids[0] = oidNode(oid)
			res, err := Verify(ci.encode(), bytes.NewReader(testContent), nil)
			if err != nil {
				t.Errorf("%v with %s: %v", profile, oid, err)
				continue
			}
			if !res.SignatureAlgorithm.OID.Equal(oid) {
				t.Errorf("reported %s, want %s", res.SignatureAlgorithm, oid)
			}
		}
	}
}

// TestVerifyWithoutSignedAttributes builds an SM2 signature directly over the
// content, as some signers do, and checks it both ways.
func TestVerifyWithoutSignedAttributes(t *testing.T) {
	s, chain := newTestSigner(t, ProfileDefault, 2)
	der, err := s.Sign(bytes.NewReader(testContent), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ci := decodeTree(t, der)
	si := signerInfoNode(ci)
	sig, err := chain.LeafKey().Sign(rand.Reader, testContent, sm2.DefaultSM2SignerOpts)
	if err != nil {
		t.Fatal(err)
	}
	si.kids = append(si.kids[:3], si.kids[4:]...) // drop signedAttrs
	si.kids[len(si.kids)-1].content = sig
	der = ci.encode()

	res, err := Verify(der, bytes.NewReader(testContent), nil)
	if err != nil {
		t.Fatalf("valid signature without signed attributes: %v", err)
	}
	if res.SignedAttributes || !res.Valid() || !res.SigningTime.IsZero() {
		t.Errorf("unexpected result %+v", res)
	}
	if _, err := Verify(der, bytes.NewReader(append([]byte("x"), testContent...)), nil); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed content: got %v, want ErrBadSignature", err)
	}
	if _, err := VerifyDigest(der, make([]byte, 32), nil); !errors.Is(err, ErrNeedContent) {
		t.Errorf("digest only: got %v, want ErrNeedContent", err)
	}
}

// foreignSignedData signs content with an RSA or ECDSA chain through
// digitorus/pkcs7, another implementation, as other signers' PDFs are.
func foreignSignedData(t *testing.T, kt testpki.KeyType, withAttrs bool) []byte {
	t.Helper()
	chain := testpki.MustChain(testpki.Options{KeyType: kt})
	cert, err := x509.ParseCertificate(chain.Leaf().Raw)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := pkcs7.NewSignedData(testContent)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if withAttrs {
		err = sd.AddSigner(cert, chain.LeafKey(), pkcs7.SignerInfoConfig{})
	} else {
		err = sd.SignWithoutAttr(cert, chain.LeafKey(), pkcs7.SignerInfoConfig{})
	}
	if err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerifyAlgorithmPolicy(t *testing.T) {
	for _, tc := range []struct {
		name      string
		kt        testpki.KeyType
		withAttrs bool
		family    Algorithms
	}{
		{"RSA", testpki.RSA, true, RSA},
		{"ECDSA", testpki.ECDSA, true, ECDSA},
		{"RSA without signed attributes", testpki.RSA, false, RSA},
		{"ECDSA without signed attributes", testpki.ECDSA, false, ECDSA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der := foreignSignedData(t, tc.kt, tc.withAttrs)
			if _, err := Verify(der, bytes.NewReader(testContent), nil); !errors.Is(err, ErrAlgorithmNotAccepted) {
				t.Fatalf("SM2 required: got %v, want ErrAlgorithmNotAccepted", err)
			}
			opts := &VerifyOptions{Algorithms: SM2 | tc.family}
			res, err := Verify(der, bytes.NewReader(testContent), opts)
			if err != nil {
				t.Fatalf("%s accepted: %v", tc.name, err)
			}
			if !res.Valid() || res.DigestAlgorithm.Name != "SHA-256" {
				t.Errorf("unexpected result %+v", res)
			}
			if _, err := Verify(der, bytes.NewReader(testContent[1:]), opts); err == nil {
				t.Error("changed content verified")
			}
			// An RSA signature is not accepted as ECDSA, nor the reverse.
			other := ECDSA
			if tc.family == ECDSA {
				other = RSA
			}
			if _, err := Verify(der, bytes.NewReader(testContent), &VerifyOptions{Algorithms: other}); !errors.Is(err, ErrAlgorithmNotAccepted) {
				t.Errorf("wrong family accepted: %v", err)
			}
		})
	}
}
