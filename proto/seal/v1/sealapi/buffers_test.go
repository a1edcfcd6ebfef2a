package sealapi

import (
	"testing"

	"google.golang.org/grpc/mem"
)

// TestDocumentBuffers checks that, once in use, gRPC's pool hands out a
// buffer of at most twice a message's size for documents of every size the
// service takes, instead of a megabyte for anything over 32 KB.
func TestDocumentBuffers(t *testing.T) {
	UseDocumentBuffers()
	pool := mem.DefaultBufferPool()
	for _, size := range []int{5 << 10, 33 << 10, 55 << 10, 300 << 10, 3 << 20, 31 << 20} {
		b := pool.Get(size)
		if len(*b) != size || cap(*b) >= 2*size {
			t.Errorf("a %d-byte message got a buffer of len %d, cap %d", size, len(*b), cap(*b))
		}
		pool.Put(b)
	}
}
