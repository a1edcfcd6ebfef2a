package postgres

// serviceSchemaV1 is the PostgreSQL form of the service's tables; see
// store/sqlite's serviceSchemaV1, whose columns and rules it mirrors so that
// store/sqlstore's queries run on both. Flags are 0/1 integers for the same
// reason.
const serviceSchemaV1 = `
CREATE TABLE townships (
	code      TEXT PRIMARY KEY,
	name      TEXT NOT NULL,
	kind      TEXT NOT NULL,
	seal_name TEXT NOT NULL
);

CREATE TABLE items (
	code            TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	type            TEXT NOT NULL,
	service_window  TEXT NOT NULL CHECK (service_window IN ('approval', 'service', 'dispatched')),
	domain          TEXT NOT NULL,
	supervisor      TEXT NOT NULL,
	legal_basis     TEXT NOT NULL,
	time_limit_days INTEGER NOT NULL,
	documents       TEXT NOT NULL,
	active          INTEGER NOT NULL CHECK (active IN (0, 1))
);

CREATE TABLE implementations (
	township_code TEXT NOT NULL REFERENCES townships(code),
	item_code     TEXT NOT NULL REFERENCES items(code),
	PRIMARY KEY (township_code, item_code)
);

CREATE TABLE principals (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('clerk', 'admin', 'supervisor')),
	township_code TEXT NOT NULL,
	windows       TEXT NOT NULL,
	domains       TEXT NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_us    BIGINT NOT NULL
);

CREATE TABLE credentials (
	kind         TEXT NOT NULL CHECK (kind IN ('token', 'cert')),
	hash         BYTEA NOT NULL CHECK (length(hash) = 32),
	lookup       BYTEA NOT NULL CHECK (lookup = substring(hash from 1 for 8)),
	principal_id TEXT NOT NULL REFERENCES principals(id),
	created_us   BIGINT NOT NULL,
	PRIMARY KEY (kind, hash)
);
CREATE INDEX credentials_lookup ON credentials(kind, lookup);

CREATE TABLE ledger (
	seq            BIGINT PRIMARY KEY CHECK (seq > 0),
	time_us        BIGINT NOT NULL,
	request_id     TEXT NOT NULL,
	township_code  TEXT NOT NULL,
	seal_id        TEXT NOT NULL,
	cert_serial    TEXT NOT NULL,
	item_code      TEXT NOT NULL,
	domain         TEXT NOT NULL,
	case_no        TEXT NOT NULL,
	principal      TEXT NOT NULL,
	service_window TEXT NOT NULL,
	doc_kind       TEXT NOT NULL,
	input_sm3      BYTEA,
	output_sm3     BYTEA,
	result         TEXT NOT NULL CHECK (result IN ('sealed', 'refused')),
	rule           TEXT NOT NULL,
	detail         TEXT NOT NULL,
	prev_hash      BYTEA NOT NULL,
	hash           BYTEA NOT NULL
);
CREATE UNIQUE INDEX ledger_sealed_request ON ledger(request_id) WHERE result = 'sealed';
CREATE INDEX ledger_township ON ledger(township_code, seq);
CREATE INDEX ledger_domain ON ledger(domain, seq);

CREATE TABLE results (
	request_id TEXT PRIMARY KEY,
	seq        BIGINT NOT NULL UNIQUE REFERENCES ledger(seq),
	document   BYTEA NOT NULL
);

CREATE TABLE checkpoints (
	id          BIGSERIAL PRIMARY KEY,
	seq         BIGINT NOT NULL,
	head        BYTEA NOT NULL,
	time_us     BIGINT NOT NULL,
	signature   BYTEA NOT NULL,
	certificate BYTEA NOT NULL
);

CREATE FUNCTION eseal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows never change', TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
	FOR EACH ROW EXECUTE FUNCTION eseal_append_only();
CREATE TRIGGER results_append_only BEFORE UPDATE OR DELETE ON results
	FOR EACH ROW EXECUTE FUNCTION eseal_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
	FOR EACH ROW EXECUTE FUNCTION eseal_append_only();
`

// serviceSchemaV2 stores sealed documents without pglz compression: a PDF's
// streams are compressed already, so trying again only spends CPU, and it
// spent it inside the ledger append, while the ledger table is locked.
const serviceSchemaV2 = `
ALTER TABLE results ALTER COLUMN document SET STORAGE EXTERNAL;
`

// serviceSchemaV3 matches SQLite's results table, whose documents may be
// kept outside the database (the column the shared queries name). On
// PostgreSQL it stays NULL: the documents are in the table, where every
// replica reads them.
const serviceSchemaV3 = `
ALTER TABLE results ADD COLUMN document_ref BYTEA;
`

// serviceSchemaV4 gives credentials an expiry, as store/sqlite's
// serviceSchemaV3 does: tokens stored before it expire a year after the
// migration (the default token_ttl), certificates have none here.
const serviceSchemaV4 = `
ALTER TABLE credentials ADD COLUMN expires_us BIGINT;
UPDATE credentials SET expires_us = (extract(epoch FROM now()) * 1000000)::bigint + 31536000000000
	WHERE kind = 'token';
`

// serviceSchemaV5 scopes request ids to the township, as store/sqlite's
// serviceSchemaV4 does: results are keyed by township and request id, each
// with the township of its ledger record. Results never change, so their
// trigger is set aside for the one update that fills the new column.
const serviceSchemaV5 = `
DROP INDEX ledger_sealed_request;
CREATE UNIQUE INDEX ledger_sealed_request ON ledger(township_code, request_id) WHERE result = 'sealed';
ALTER TABLE results ADD COLUMN township_code TEXT;
ALTER TABLE results DISABLE TRIGGER results_append_only;
UPDATE results r SET township_code = l.township_code FROM ledger l WHERE l.seq = r.seq;
ALTER TABLE results ENABLE TRIGGER results_append_only;
ALTER TABLE results ALTER COLUMN township_code SET NOT NULL;
ALTER TABLE results DROP CONSTRAINT results_pkey;
ALTER TABLE results ADD PRIMARY KEY (township_code, request_id);
`
