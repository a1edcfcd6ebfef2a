package events

import (
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strconv"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// treeDomain separates a signature over a tree of events from a signature
// over one event (eventDomain) and from any other use of the ledger key.
const treeDomain = "eseal ledger event tree v3"

// maxTreeSize bounds the trees a verifier accepts: far above what one
// delivery signs (a worker's read of the ledger), and small enough that a
// forged proof cannot make it hash long.
const maxTreeSize = 1 << 20

// SignTree signs evs with one signature, as a worker does for the events
// it has read: SM2 signatures are most of what delivering an event costs,
// and one for a run of events frees that CPU for sealing. The events'
// Messages are the leaves of a Merkle tree (RFC 9162's, with SM3); the
// ledger key signs the tree's size and root, and each event carries the
// signature, the signer's certificate, and its inclusion proof (treeindex,
// treesize, treepath), so that it still verifies alone, offline, as the
// line a receiver keeps. One event is signed alone (SignAt), as before.
func SignTree(evs []*Event, key crypto.Signer, cert *smx509.Certificate, at time.Time) error {
	if len(evs) == 1 {
		return evs[0].SignAt(key, cert, at)
	}
	if len(evs) == 0 || len(evs) > maxTreeSize {
		return fmt.Errorf("signing a tree of %d events: want 1 to %d", len(evs), maxTreeSize)
	}
	at = at.UTC().Truncate(time.Millisecond)
	leaves := make([][]byte, len(evs))
	for i, e := range evs {
		e.SignedAt = at
		leaves[i] = leafHash(e.Message())
	}
	paths := make([][][]byte, len(evs))
	root := treeHash(leaves, paths)
	sig, err := key.Sign(rand.Reader, treeMessage(uint64(len(evs)), root), sm2.DefaultSM2SignerOpts)
	if err != nil {
		return fmt.Errorf("signing a tree of events %s to %s: %w", evs[0].ID, evs[len(evs)-1].ID, err)
	}
	sigB64, certB64, size := b64(sig), b64(cert.Raw), strconv.Itoa(len(evs))
	for i, e := range evs {
		path := make([]byte, 0, len(paths[i])*sm3.Size*2)
		for _, h := range paths[i] {
			path = hex.AppendEncode(path, h)
		}
		e.Signature, e.SignerCert = sigB64, certB64
		e.TreeIndex, e.TreeSize, e.TreePath = strconv.Itoa(i), size, string(path)
	}
	return nil
}

// signedMessage is what the event's signature covers: its Message, or for
// an event signed in a tree, the tree's size and the root its proof leads
// to from its Message.
func (e *Event) signedMessage() ([]byte, error) {
	if e.TreeIndex == "" && e.TreeSize == "" && e.TreePath == "" {
		return e.Message(), nil
	}
	index, err1 := strconv.ParseUint(e.TreeIndex, 10, 64)
	size, err2 := strconv.ParseUint(e.TreeSize, 10, 64)
	path, err3 := hex.DecodeString(e.TreePath)
	switch {
	case err1 != nil || err2 != nil || err3 != nil || len(path)%sm3.Size != 0:
		return nil, fmt.Errorf("%w: event %s: treeindex, treesize and treepath are numbers and SM3 hashes in hex", ErrMalformed, e.ID)
	case size < 2 || size > maxTreeSize || index >= size:
		return nil, fmt.Errorf("%w: event %s: leaf %d of a tree of %d", ErrMalformed, e.ID, index, size)
	}
	root, ok := rootFromPath(leafHash(e.Message()), index, size, path)
	if !ok {
		return nil, fmt.Errorf("%w: event %s: its tree proof does not lead to a root", ErrForged, e.ID)
	}
	return treeMessage(size, root), nil
}

// treeMessage is the byte string a tree's signature covers.
func treeMessage(size uint64, root []byte) []byte {
	var b []byte
	for _, s := range []string{treeDomain, strconv.FormatUint(size, 10), string(root)} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// leafHash and nodeHash are RFC 9162's (2.1.1) with SM3: the prefixes keep
// a leaf from passing for an inner node.
func leafHash(msg []byte) []byte {
	h := sm3.New()
	h.Write([]byte{0})
	h.Write(msg)
	return h.Sum(nil)
}

func nodeHash(left, right []byte) []byte {
	h := sm3.New()
	h.Write([]byte{1})
	h.Write(left)
	h.Write(right)
	return h.Sum(nil)
}

// treeHash returns the root of the tree over leaves (RFC 9162, 2.1.1: the
// left subtree holds the largest power of two below the count), and
// appends to each leaf's path the sibling hashes from the leaf up, its
// inclusion proof (2.1.3.1), all in one pass.
func treeHash(leaves [][]byte, paths [][][]byte) []byte {
	n := len(leaves)
	if n == 1 {
		return leaves[0]
	}
	k := 1 << (bits.Len(uint(n-1)) - 1) // the largest power of two below n
	left := treeHash(leaves[:k], paths[:k])
	right := treeHash(leaves[k:], paths[k:])
	for i := range k {
		paths[i] = append(paths[i], right)
	}
	for i := k; i < n; i++ {
		paths[i] = append(paths[i], left)
	}
	return nodeHash(left, right)
}

// rootFromPath computes the root that an inclusion proof leads to from a
// leaf's hash (RFC 9162, 2.1.3.2), or false when the path does not fit a
// tree of that size.
func rootFromPath(leaf []byte, index, size uint64, path []byte) ([]byte, bool) {
	fn, sn, r := index, size-1, leaf
	for len(path) > 0 {
		p := path[:sm3.Size]
		path = path[sm3.Size:]
		if sn == 0 {
			return nil, false
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return r, sn == 0
}
