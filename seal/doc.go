// Package seal is the domain of the township seal: townships, the approval
// and service items they implement, the principals who ask for a seal, the
// rules that decide whether the seal may be used (DESIGN.md §3), and the
// hash-chained ledger that records every decision. Verify answers the
// other side's question: is this PDF validly sealed, as it is displayed
// now? (see verify.go).
//
// It touches no storage, network or keys. Callers supply the registry and
// the seal's state through small interfaces, and the cryptography lives in
// seal/cms and keystore.
package seal
