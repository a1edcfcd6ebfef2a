package api

import "google.golang.org/grpc"

// The REST gateway calls the gRPC services through an in-memory (bufconn)
// connection, so that a REST call goes through the same authentication,
// access checks, admission, logging and metrics as a gRPC call.
//
// That connection has no TLS: it never leaves the process, and encrypting
// each document again in memory would only cost time. It is therefore
// served by a gRPC server of its own, built with the same options as the
// outside one but without transport credentials. (One server for both,
// with TLS credentials, made every REST call fail when TLS was on: the
// gateway spoke plain text to a listener that expected a TLS handshake.)
//
// Both servers share the same service values, so that limits such as the
// sealing slots hold across gRPC and REST together. The gateway passes a
// client certificate it verified under gatewayCertHeader; the
// authenticator trusts that header only on the in-memory connection, which
// no outside caller can reach (see authenticator.authenticate).

// fanout registers each service on every server in it, with the same
// implementation.
type fanout []*grpc.Server

func (f fanout) RegisterService(desc *grpc.ServiceDesc, impl any) {
	for _, s := range f {
		s.RegisterService(desc, impl)
	}
}
