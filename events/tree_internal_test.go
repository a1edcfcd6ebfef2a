package events

import (
	"bytes"
	"testing"

	"github.com/emmansun/gmsm/sm3"
)

// mth is RFC 9162's definition of the tree hash, written as the RFC puts
// it, to check treeHash's one-pass form against.
func mth(leaves [][]byte) []byte {
	n := len(leaves)
	if n == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < n {
		k *= 2
	}
	return nodeHash(mth(leaves[:k]), mth(leaves[k:]))
}

// TestTreeProofs: for trees of every size up to 70 and a few larger, the
// root is the RFC's, every leaf's proof leads to it, and a proof changed
// (a flipped bit, another index or leaf, a hash more or less) leads
// elsewhere or nowhere. (A proof may fit a larger tree with the same
// root; the signature covers the size too, which TestSignTree checks.)
func TestTreeProofs(t *testing.T) {
	sizes := []int{}
	for n := 1; n <= 70; n++ {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 100, 128, 129, 500)
	for _, n := range sizes {
		leaves := make([][]byte, n)
		for i := range leaves {
			h := sm3.Sum([]byte{byte(i), byte(i >> 8)})
			leaves[i] = leafHash(h[:])
		}
		paths := make([][][]byte, n)
		root := treeHash(leaves, paths)
		if !bytes.Equal(root, mth(leaves)) {
			t.Fatalf("size %d: the root is not RFC 9162's", n)
		}
		for i := range n {
			path := bytes.Join(paths[i], nil)
			if got, ok := rootFromPath(leaves[i], uint64(i), uint64(n), path); !ok || !bytes.Equal(got, root) {
				t.Fatalf("size %d, leaf %d: the proof does not lead to the root", n, i)
			}
			leads := func(leaf []byte, index, size uint64, path []byte) bool {
				got, ok := rootFromPath(leaf, index, size, path)
				return ok && bytes.Equal(got, root)
			}
			if len(path) > 0 {
				bad := bytes.Clone(path)
				bad[(i*7)%len(bad)] ^= 0x10
				if leads(leaves[i], uint64(i), uint64(n), bad) {
					t.Fatalf("size %d, leaf %d: a changed proof still leads to the root", n, i)
				}
				if leads(leaves[i], uint64(i), uint64(n), path[sm3.Size:]) {
					t.Fatalf("size %d, leaf %d: a proof without its first hash still leads to the root", n, i)
				}
			}
			if leads(leaves[i], uint64(i), uint64(n), append(bytes.Clone(path), root...)) {
				t.Fatalf("size %d, leaf %d: a proof with a hash more still leads to the root", n, i)
			}
			if n > 1 {
				other := (i + 1) % n
				if leads(leaves[i], uint64(other), uint64(n), path) {
					t.Fatalf("size %d, leaf %d: the proof also proves leaf %d", n, i, other)
				}
				if leads(leaves[other], uint64(i), uint64(n), path) {
					t.Fatalf("size %d, leaf %d: the proof also proves leaf %d's hash", n, i, other)
				}
			}
		}
	}
}

// TestLeafIsNotNode: a leaf's hash differs from an inner node's over the
// same bytes (the RFC's 0x00 and 0x01 prefixes), so that a proof cannot
// present an inner node as a leaf.
func TestLeafIsNotNode(t *testing.T) {
	a, b := sm3.Sum([]byte("a")), sm3.Sum([]byte("b"))
	if bytes.Equal(leafHash(append(a[:], b[:]...)), nodeHash(a[:], b[:])) {
		t.Fatal("a leaf over two hashes equals their node")
	}
}
