// Package events turns ledger records into signed CloudEvents 1.0 and checks
// them: what the service pushes to the provincial platform and the
// supervising departments, and what a receiver verifies offline with only
// the county root.
//
// # Format
//
// An event is CloudEvents 1.0 in the JSON event format, sent over HTTP in
// structured content mode (Content-Type application/cloudevents+json): the
// whole event, attributes and data, is one JSON document. A subscription
// with a batch size over one gets batched mode instead
// (application/cloudevents-batch+json): a JSON array of such events, in
// order, up to the batch size and 1 MiB a request. Structured mode,
// not binary mode, because the signature covers attributes and data
// together: a receiver stores the body it got as one line of a JSONL file
// and can check it years later, where binary mode spreads the attributes
// over ce-* headers that a proxy or a storing receiver drops. The encoder is
// our own (this file set, some 200 lines): github.com/cloudevents/sdk-go/v2
// is not in the project's pinned dependency set, would bring its own HTTP
// client and protocol bindings for one POST, and does not sign.
//
// The attributes: id is the ledger sequence number in decimal; source is
// the county service (configured); type names the record's kind:
// TypeSealed, TypeRefused, TypeSupervised (a supervising department's
// result against a case, whose data.detail is a seal.SupervisionNote), and
// for a change to a township's seal made through the API one type per
// action (TypeSealIssued, TypeSealSuspended, TypeSealResumed,
// TypeSealRotated, TypeSealRevoked; data.detail is a seal.LifecycleNote,
// data.domain is "*", so every department's subscription receives it).
// A record of any other kind does not verify. subject is the case number
// (or, without one, the request id; for a seal's lifecycle, the seal's
// id); time is the record's time; data is the ledger record (Data), every
// field the record's hash covers. Extensions (lower case, as CloudEvents
// requires):
//
//   - chainhash: the record's SM3 chain hash, hex;
//   - subscription: the subscription the event was sent for;
//   - prevseq: the sequence number of the previous record this
//     subscription's filter matches ("0" for none): the link that lets a
//     receiver see that nothing is missing between two events it holds;
//   - signedat: when the event was signed (RFC 3339, UTC), at delivery or
//     at an archive's export, which may be long after the record: a replay
//     of old records is signed by the ledger key of the day of the replay;
//   - signature: SM2 (default user id) by the county's ledger key over
//     Message(), base64, or, for an event signed in a tree, over the tree;
//   - signercert: the ledger key's certificate, DER in base64, which the
//     county root must certify as a ledger-signing certificate;
//   - treeindex, treesize, treepath: present when the event was signed
//     with others in one tree (below): its leaf's index from 0, the number
//     of leaves, and the sibling hashes from the leaf up, each 32 bytes of
//     SM3, concatenated in hex.
//
// # Signatures
//
// Message() is the concatenation of these fields, each as a 4-byte
// big-endian length and its bytes: "eseal ledger event v2", id, source,
// type, subject, subscription, prevseq, signedat (as the JSON carries it:
// RFC 3339 in UTC, the fraction to the millisecond without trailing
// zeros), and chainhash. An event signed alone has its
// signature over Message().
//
// An outbox worker signs each run of events it reads at once with one
// signature (SignTree): delivering an event would otherwise cost an SM2
// signature for each subscription, more CPU than the rest of its delivery,
// taken from sealing. The tree is RFC 9162's Merkle tree with SM3: a leaf
// is SM3(0x00 || Message()), an inner node SM3(0x01 || left || right),
// the left subtree holding the largest power of two of leaves below the
// count. The signature covers the length-prefixed fields "eseal ledger
// event tree v3", the tree's size in decimal, and its 32-byte root. A
// verifier recomputes the root from the event's own Message() and its
// proof (RFC 9162, 2.1.3.2), so each event still verifies alone, as the
// line a receiver keeps, and changing any field it covers changes the
// root. The events of a tree share signedat, signature and signercert.
//
// # What a receiver can check
//
// With the county root alone (Verifier): that the record in data hashes to
// chainhash, that the signature by a ledger certificate under the root
// covers id, type, source, subject, subscription, prevseq, signedat and
// chainhash; hence that the whole event is the county's. The certificate
// is checked at signedat (not at the record's time, which a ledger
// certificate renewed since would fail), and signedat must not precede
// the record (by more than a replica's clock skew). Over a file of events
// (VerifyStream): that each event's prevseq is the id of the one before it
// in the same subscription, so none is missing; and where two events are
// consecutive in the ledger, that the later one's prevHash is the earlier
// one's chain hash. Duplicates (at-least-once delivery) are detected by id
// and must say the same of the same record (each delivery is signed
// afresh, so only signedat and the signature may differ).
package events
