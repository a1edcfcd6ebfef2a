package postgres

// eventsSchemaV1 holds the subscriptions of the event push (package
// outbox). There is no outbox table: the ledger is the outbox (its records
// are durable, gap-free and ordered by seq, committed by the append), and
// each subscription keeps its delivery cursor, the last seq its receiver
// acknowledged. generation changes at each pause, resume and replay, so
// that a delivery in flight cannot move a cursor that an operator reset.
// The lease (lease_owner until lease_until_us) makes one replica at a time
// deliver a subscription: it is taken by a conditional UPDATE, which
// PostgreSQL's row lock serialises, and renewed as delivery goes on; a
// replica that dies loses it when it runs out. credential is the
// receiver's secret (a bearer token, or a client certificate's key), sealed
// with the KEK.
const eventsSchemaV1 = `
CREATE TABLE subscriptions (
	id                TEXT PRIMARY KEY,
	endpoint          TEXT NOT NULL,
	township_code     TEXT NOT NULL,
	domains           TEXT NOT NULL,
	auth_kind         TEXT NOT NULL CHECK (auth_kind IN ('none', 'bearer', 'mtls')),
	credential        BYTEA,
	client_cert       BYTEA,
	server_ca         BYTEA,
	state             TEXT NOT NULL CHECK (state IN ('active', 'paused', 'parked')),
	generation        BIGINT NOT NULL,
	cursor            BIGINT NOT NULL CHECK (cursor >= 0),
	failures          INTEGER NOT NULL,
	last_error        TEXT NOT NULL,
	delivered         BIGINT NOT NULL,
	last_delivered_us BIGINT NOT NULL,
	lease_owner       TEXT NOT NULL,
	lease_until_us    BIGINT NOT NULL,
	created_us        BIGINT NOT NULL,
	created_by        TEXT NOT NULL
);
`

// eventsSchemaBatch gives each subscription its batch size: the most
// events one request may carry (outbox.Subscription.Batch). Subscriptions
// made before it take 0, one event a request in structured mode, which is
// what they were sent.
const eventsSchemaBatch = `
ALTER TABLE subscriptions ADD COLUMN batch INTEGER NOT NULL DEFAULT 0 CHECK (batch >= 0);
`
