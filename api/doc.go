// Package api is the service's transport: the gRPC services of
// proto/seal/v1, their REST mapping through the generated gateway
// (proto/seal/v1/sealgw), health checking, reflection and Prometheus
// metrics. It authenticates callers (bearer tokens or mTLS client
// certificates, looked up by their SM3 hash), admits each method by an
// allow-list of roles, and maps the domain's errors to gRPC status codes
// whose ErrorInfo names the rule that refused.
//
// It holds no business rule: package service assembles the domain and
// hands New ready-made parts. Sealing and its rules are seal.Sealer's, the
// ledger's read scope, checkpoints and verification are seal.Ledger's,
// seal administration is keystore's, and verification is package verify's.
package api
