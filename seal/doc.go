// Package seal is the domain of the township seal: townships, the approval
// and service items they implement, the principals who ask for a seal, the
// rules that decide whether the seal may be used (DESIGN.md §3), and the
// hash-chained ledger that records every decision. Whether a sealed PDF is
// valid is the other side's question, answered by package verify.
//
// It touches no storage, network or keys. Callers supply the registry and
// the seal's state through small interfaces, and the cryptography lives in
// seal/cms and keystore.
package seal
