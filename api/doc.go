// Package api serves the sealing service: the gRPC services of
// proto/seal/v1, their REST mapping through grpc-gateway, health checking,
// reflection and Prometheus metrics. It authenticates callers (bearer tokens
// or mTLS client certificates, looked up by their SM3 hash), authorises each
// method by role, and maps the domain's errors to gRPC status codes whose
// ErrorInfo names the rule that refused.
//
// It holds no business rules of its own: sealing goes through seal.Sealer,
// seal administration through keystore, storage through store.Store.
package api
