// Package sealapi is what both ends of the seal.v1 API share beyond the
// generated code: the mapping between the domain's records, checkpoints
// and verification reports and the API's messages, the domain of the
// service's ErrorInfo details, the loopback rule for plaintext, and the
// gRPC buffer pool sized for documents.
//
// It is safe for clients: it imports the domain's types (seal, verify) and
// gRPC, and nothing of the server (no gateway, metrics, keystore or store).
package sealapi
