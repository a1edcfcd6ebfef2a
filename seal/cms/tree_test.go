package cms

import (
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// node is a DER TLV tree for tests that build malformed or unusual
// SignedData by editing real output: a constructed node has kids, a
// primitive one has content.
type node struct {
	tag     cbasn1.Tag
	content []byte
	kids    []*node
}

func (n *node) constructed() bool { return n.tag&0x20 != 0 }

func decodeTree(t testing.TB, der []byte) *node {
	t.Helper()
	s := cryptobyte.String(der)
	n := decodeNode(t, &s)
	if !s.Empty() {
		t.Fatal("trailing data in test input")
	}
	return n
}

func decodeNode(t testing.TB, s *cryptobyte.String) *node {
	t.Helper()
	var content cryptobyte.String
	n := &node{}
	if !s.ReadAnyASN1(&content, &n.tag) {
		t.Fatal("test input is not DER")
	}
	if !n.constructed() {
		n.content = content
		return n
	}
	for !content.Empty() {
		n.kids = append(n.kids, decodeNode(t, &content))
	}
	return n
}

func (n *node) encode() []byte {
	var b cryptobyte.Builder
	n.add(&b)
	return b.BytesOrPanic()
}

func (n *node) add(b *cryptobyte.Builder) {
	b.AddASN1(n.tag, func(b *cryptobyte.Builder) {
		if !n.constructed() {
			b.AddBytes(n.content)
			return
		}
		for _, k := range n.kids {
			k.add(b)
		}
	})
}

func (n *node) clone() *node {
	c := &node{tag: n.tag, content: append([]byte(nil), n.content...)}
	for _, k := range n.kids {
		c.kids = append(c.kids, k.clone())
	}
	return c
}

// Paths into our own SignedData output.
func signedDataNode(ci *node) *node { return ci.kids[1].kids[0] }

func signerInfoNode(ci *node) *node {
	sd := signedDataNode(ci)
	return sd.kids[len(sd.kids)-1].kids[0]
}

// signerField returns the SignerInfo field with the given index counted from
// the end (0 = signature, 1 = signatureAlgorithm, 2 = signedAttrs, ...).
func signerField(ci *node, fromEnd int) *node {
	si := signerInfoNode(ci)
	return si.kids[len(si.kids)-1-fromEnd]
}
