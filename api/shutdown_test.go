package api

import (
	"errors"
	"io"
	"testing"
	"time"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestGracefulShutdown: a sealing in flight when shutdown begins completes
// and is recorded; a call after it is refused; Serve then returns.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	doc := readDecision(t)
	sealing := sealv1.NewSealingServiceClient(e.conn)
	st, err := sealing.SealStream(e.as("changan-approval"))
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Header{Header: sealReq("inflight", "450224-XK-0002", "G-1", permit, nil)}})
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: doc[:len(doc)/2]}})

	e.stop() // shutdown begins with the stream half sent
	// Wait until the server refuses new calls, so the stream above is
	// really in flight during the shutdown.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := sealv1.NewRegistryServiceClient(e.conn).ListTownships(e.as("admin"), &sealv1.ListTownshipsRequest{})
		if status.Code(err) == codes.Unavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still accepts calls after shutdown began: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-e.stopped:
		t.Fatal("Serve returned with a sealing in flight")
	default:
	}
	st.Send(&sealv1.SealStreamRequest{Part: &sealv1.SealStreamRequest_Chunk{Chunk: doc[len(doc)/2:]}})
	st.CloseSend()
	first, err := st.Recv()
	if err != nil || first.GetRecord() == nil {
		t.Fatalf("the in-flight sealing did not complete: %v", err)
	}
	for {
		if _, err := st.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-e.stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after the last call finished")
	}
	if head, err := e.st.Head(t.Context()); err != nil || head.RequestID != "inflight" {
		t.Fatalf("the in-flight sealing is not recorded: %v, %v", head, err)
	}
}
