package events_test

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/events"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjsm3 "github.com/tjfoc/gmsm/sm3"
)

// TestCrossCheckSignatures verifies events, alone and signed in a tree,
// as an integrator in another language would from the package doc alone:
// from the JSON's strings, with tjfoc/gmsm's SM3, SM2 and certificate
// parser, written apart from the emmansun/gmsm this package signs with.
// Where the two agree, the doc says what the code does.
func TestCrossCheckSignatures(t *testing.T) {
	c := newCounty(t)
	recs := ledger(6)
	single := events.New(recs[0], "/eseal/test", "platform", 0)
	if err := single.Sign(c.key, c.cert); err != nil {
		t.Fatal(err)
	}
	var tree []*events.Event
	for i, r := range recs[1:] {
		tree = append(tree, events.New(r, "/eseal/test", "platform", uint64(i+1)))
	}
	if err := events.SignTree(tree, c.key, c.cert, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, e := range append([]*events.Event{single}, tree...) {
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !docVerifies(t, b) {
			t.Fatalf("event %s does not verify by the doc", e.ID)
		}
		// The check can fail: a field the signature covers, changed.
		var m map[string]any
		json.Unmarshal(b, &m)
		m["prevseq"] = "99"
		changed, _ := json.Marshal(m)
		if docVerifies(t, changed) {
			t.Fatalf("event %s verifies by the doc with another prevseq", e.ID)
		}
	}
}

// docVerifies checks one event's signature as the package doc describes.
func docVerifies(t *testing.T, event []byte) bool {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(event, &m); err != nil {
		t.Fatal(err)
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	fields := func(fs ...string) []byte {
		var b []byte
		for _, f := range fs {
			b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
			b = append(b, f...)
		}
		return b
	}
	msg := fields("eseal ledger event v2", str("id"), str("source"), str("type"), str("subject"),
		str("subscription"), str("prevseq"), str("signedat"), str("chainhash"))
	if str("treesize") != "" {
		sm3 := func(parts ...[]byte) []byte {
			h := tjsm3.New()
			for _, p := range parts {
				h.Write(p)
			}
			return h.Sum(nil)
		}
		fn, _ := strconv.ParseUint(str("treeindex"), 10, 64)
		size, _ := strconv.ParseUint(str("treesize"), 10, 64)
		path, err := hex.DecodeString(str("treepath"))
		if err != nil {
			return false
		}
		r, sn := sm3([]byte{0}, msg), size-1
		for ; len(path) >= 32; path = path[32:] { // RFC 9162, 2.1.3.2
			p := path[:32]
			if fn&1 == 1 || fn == sn {
				r = sm3([]byte{1}, p, r)
				for fn&1 == 0 && fn != 0 {
					fn, sn = fn>>1, sn>>1
				}
			} else {
				r = sm3([]byte{1}, r, p)
			}
			fn, sn = fn>>1, sn>>1
		}
		if sn != 0 {
			return false
		}
		msg = fields("eseal ledger event tree v3", str("treesize"), string(r))
	}
	// The certificate is parsed by smx509 (tjfoc's parser refuses the
	// ledger certificate's policy OID, whose arc is over 2^31); the key
	// goes to tjfoc by its point.
	der, _ := base64.StdEncoding.DecodeString(str("signercert"))
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	point, err := sm2.PublicKeyToECDH(cert.PublicKey.(*ecdsa.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	p := point.Bytes()
	pub := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: new(big.Int).SetBytes(p[1:33]), Y: new(big.Int).SetBytes(p[33:])}
	sig, _ := base64.StdEncoding.DecodeString(str("signature"))
	return pub.Verify(msg, sig)
}
