// Package events turns ledger records into signed CloudEvents 1.0 and checks
// them: what the service pushes to the provincial platform and the
// supervising departments, and what a receiver verifies offline with only
// the county root.
//
// # Format
//
// An event is CloudEvents 1.0 in the JSON event format, sent over HTTP in
// structured content mode (Content-Type application/cloudevents+json): the
// whole event, attributes and data, is one JSON document. Structured mode,
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
//     Message(), base64;
//   - signercert: the ledger key's certificate, DER in base64, which the
//     county root must certify as a ledger-signing certificate.
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
