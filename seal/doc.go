// Package seal is the domain of the township seal: townships, the approval
// and service items they implement, the principals who ask for a seal, the
// rules that decide whether the seal may be used (DESIGN.md §3: Policy),
// the Sealer that applies them to every sealing, and the hash-chained
// Ledger that records every decision, decides who may read it, and signs
// and checks its checkpoints. Whether a sealed PDF is valid is the other
// side's question, answered by package verify.
//
// It touches no storage, network or keys. Its ports say what it needs:
// Registry (the catalog), Keys (a township's seal, with its state and
// signer, from one read), LedgerStore and CheckpointKeys; package service
// plugs the store and the keystore into them. The cryptography lives in
// seal/cms and keystore.
package seal
