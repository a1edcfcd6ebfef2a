// Package tsa is the county time-stamping authority: RFC 3161 over HTTP,
// with SM3 message imprints (and SHA-2 ones, which it stamps the same way)
// and tokens signed SM3withSM2 in the CMS profile of seal/cms (GB/T 20520
// is the national profile of RFC 3161).
//
// An Authority answers a DER TimeStampReq with a DER TimeStampResp: a
// granted token, or a PKIStatusInfo rejection whose failInfo says why
// (badAlg, badRequest, badDataFormat, unacceptedPolicy,
// unacceptedExtension, systemFailure). Its genTime comes from its clock
// and never goes backwards within a process; its serial numbers come in
// blocks from a SerialSource (a counter in the store, shared by the
// replicas) and are unique across every process that shares it. Handler
// serves it over HTTP; Client asks one, ours or another's.
//
// What it touches: the key it is given (a KeySource, the keystore's TSA
// key in the service), the SerialSource, and the network only in Client.
// It keeps no files and logs nothing of a request but its outcome.
package tsa
