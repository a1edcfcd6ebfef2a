package sealapi

import (
	"fmt"
	"sync"

	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/mem"
)

// Message buffers. gRPC marshals and reads each message into a buffer from
// its process-wide pool, and clears the whole buffer first. The default
// pool jumps from 32 KB to 1 MB, so every document between the two (a
// one-page decision is ~55 KB) cleared a megabyte on each send and each
// receive: a tenth of the CPU of a sealing, server and client together.
// documentBuffers adds the powers of two in between and above, so that a
// buffer is at most twice its message.
var documentBuffers = func() mem.BufferPool {
	exps := []uint8{8, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}
	p, err := mem.NewBinaryTieredBufferPool(exps...)
	if err != nil {
		panic(fmt.Sprintf("sealapi: message buffer pool: %v", err))
	}
	return p
}()

var useBuffers sync.Once

// UseDocumentBuffers makes documentBuffers gRPC's pool in this process.
// The pool is process-wide, so the programs that move documents call it
// once at start (New does, for the service; sealctl does); calling it
// again does nothing.
func UseDocumentBuffers() {
	useBuffers.Do(func() { experimental.SetDefaultBufferPool(documentBuffers) })
}
