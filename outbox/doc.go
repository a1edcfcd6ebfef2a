// Package outbox pushes the ledger to subscribers as signed CloudEvents
// (package events): the provincial platform and the supervising
// departments, each filtered by domain and/or township.
//
// # The ledger is the outbox
//
// A transactional outbox writes each message in the same transaction as
// the change it reports, so that neither is ever committed without the
// other. Here the change is a ledger record, and the ledger already is
// such a table: a record is committed by the append transaction (with its
// document), it is never changed or removed, and records carry a gap-free,
// ordered sequence number. So the event *is* the record: it is committed
// in the record's transaction by construction, and a second outbox table
// would only copy it. What a classic outbox keeps per message (sent or
// not) is kept per subscription instead: a cursor, the last sequence
// number its receiver acknowledged. Delivery reads the records after the
// cursor that the subscription's filter matches, in sequence order, signs
// them, sends them, and moves the cursor only after the receiver's 2xx: at
// least once, in order, nothing lost if the process dies at any point (it
// sends again from the cursor).
//
// # Delivery
//
// One goroutine per active subscription (at most MaxWorkers), so that a
// slow or dead receiver holds up only its own; sealing never waits for
// delivery (the append only wakes the workers). A failed send is tried
// again after an exponential backoff with jitter, and past ParkAfter
// failures in a row the subscription is parked: a log line at error level,
// the eseal_events_parked gauge, until the county office resumes it.
//
// # What delivery costs sealing
//
// Delivery shares the machine's CPU and the store's readers with sealing,
// in proportion to records times subscriptions. Four things keep that
// share small. The workers of a process read the newest records once
// between them (tail.go), each filtering them for its subscription. A
// worker signs all it read at once with one SM2 signature over a Merkle
// tree (events.SignTree), each event carrying its proof, where one
// signature per event and subscription cost more than everything else in
// delivery. A subscription with a batch size sends runs of events in
// CloudEvents' batched mode, one request for up to that many. And a
// worker records its cursor once a second (SaveEvery bounds it), since
// each recording is a write that the ledger's appends wait for.
// BenchmarkSealingWithSubscriptions (package api) measures what is left.
//
// # Replicas
//
// Every replica runs the dispatcher, and a worker first takes the
// subscription's lease: a conditional UPDATE of its row that succeeds only
// when no other replica holds an unexpired lease, so the row lock orders
// two replicas reaching at once and one wins. The lease is renewed with
// each delivery and while idle, and the cursor moves only under the lease
// and in the generation the worker started in (pause, resume and replay
// change it). A replica that dies or stalls loses the lease after Lease,
// and another takes over from the cursor: the one event in flight may be
// sent twice, as at-least-once allows, and none is skipped. This is the
// SKIP LOCKED idea without holding a transaction open across a slow HTTP
// call, and the same code runs on SQLite (one process) and PostgreSQL.
package outbox
