package sqlite

// serviceSchemaV1 holds the sealing service's tables: the catalog, the
// principals with their credential hashes, and the ledger with the sealed
// results. Times are microseconds since the epoch (what a ledger record's
// hash covers). The ledger, results and checkpoints are append-only: the
// triggers refuse changes, so that only someone who bypasses the program can
// change history, and the hash chain and signed checkpoints show it when
// they do.
const serviceSchemaV1 = `
CREATE TABLE townships (
	code      TEXT PRIMARY KEY,
	name      TEXT NOT NULL,
	kind      TEXT NOT NULL,
	seal_name TEXT NOT NULL
) STRICT;

CREATE TABLE items (
	code            TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	type            TEXT NOT NULL,
	service_window  TEXT NOT NULL CHECK (service_window IN ('approval', 'service', 'dispatched')),
	domain          TEXT NOT NULL,
	supervisor      TEXT NOT NULL,
	legal_basis     TEXT NOT NULL,
	time_limit_days INTEGER NOT NULL,
	documents       TEXT NOT NULL, -- JSON array of document kinds
	active          INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT;

CREATE TABLE implementations (
	township_code TEXT NOT NULL REFERENCES townships(code),
	item_code     TEXT NOT NULL REFERENCES items(code),
	PRIMARY KEY (township_code, item_code)
) STRICT, WITHOUT ROWID;

CREATE TABLE principals (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('clerk', 'admin', 'supervisor')),
	township_code TEXT NOT NULL,
	windows       TEXT NOT NULL, -- JSON array
	domains       TEXT NOT NULL, -- JSON array
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_us    INTEGER NOT NULL
) STRICT;

CREATE TABLE credentials (
	kind         TEXT NOT NULL CHECK (kind IN ('token', 'cert')),
	hash         BLOB NOT NULL CHECK (length(hash) = 32),
	lookup       BLOB NOT NULL CHECK (lookup = substr(hash, 1, 8)), -- what queries match on
	principal_id TEXT NOT NULL REFERENCES principals(id),
	created_us   INTEGER NOT NULL,
	PRIMARY KEY (kind, hash)
) STRICT, WITHOUT ROWID;
CREATE INDEX credentials_lookup ON credentials(kind, lookup);

CREATE TABLE ledger (
	seq           INTEGER PRIMARY KEY CHECK (seq > 0),
	time_us       INTEGER NOT NULL,
	request_id    TEXT NOT NULL,
	township_code TEXT NOT NULL,
	seal_id       TEXT NOT NULL,
	cert_serial   TEXT NOT NULL,
	item_code     TEXT NOT NULL,
	domain        TEXT NOT NULL,
	case_no       TEXT NOT NULL,
	principal     TEXT NOT NULL,
	service_window TEXT NOT NULL,
	doc_kind      TEXT NOT NULL,
	input_sm3     BLOB,
	output_sm3    BLOB,
	result        TEXT NOT NULL CHECK (result IN ('sealed', 'refused')),
	rule          TEXT NOT NULL,
	detail        TEXT NOT NULL,
	prev_hash     BLOB NOT NULL,
	hash          BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX ledger_sealed_request ON ledger(request_id) WHERE result = 'sealed';
CREATE INDEX ledger_township ON ledger(township_code, seq);
CREATE INDEX ledger_domain ON ledger(domain, seq);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger records never change'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger records are never deleted'); END;

CREATE TABLE results (
	request_id TEXT PRIMARY KEY,
	seq        INTEGER NOT NULL UNIQUE REFERENCES ledger(seq),
	document   BLOB NOT NULL
) STRICT;
CREATE TRIGGER results_no_update BEFORE UPDATE ON results
BEGIN SELECT RAISE(ABORT, 'sealed results never change'); END;

CREATE TABLE checkpoints (
	id          INTEGER PRIMARY KEY,
	seq         INTEGER NOT NULL,
	head        BLOB NOT NULL,
	time_us     INTEGER NOT NULL,
	signature   BLOB NOT NULL,
	certificate BLOB NOT NULL
) STRICT;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints never change'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are never deleted'); END;
`

// serviceSchemaV2 lets a result refer to its document in the document log
// (documents.go) instead of holding it: document is then empty. Results
// stored before keep their documents.
const serviceSchemaV2 = `
ALTER TABLE results ADD COLUMN document_ref BLOB;
`

// serviceSchemaV3 gives credentials an expiry, in microseconds since the
// epoch. A token must have one (the store refuses a token without), and
// tokens stored before this migration get one a year after it: the default
// token_ttl (8760h), so that none works for ever and none stops at the
// upgrade. (Migrations run before the configuration reaches the store, so
// they cannot use a configured token_ttl; rotate old tokens sooner if
// yours is shorter.) A certificate's expiry stays NULL: the certificate's
// own validity applies, which TLS checks.
const serviceSchemaV3 = `
ALTER TABLE credentials ADD COLUMN expires_us INTEGER;
UPDATE credentials SET expires_us = CAST(strftime('%s', 'now') AS INTEGER) * 1000000 + 31536000000000
	WHERE kind = 'token';
`

// serviceSchemaV4 scopes request ids to the township: the same id sealed
// by two townships is two requests, and a result is found by its township
// and id. Results are moved into a table keyed so, each with the township
// of its ledger record.
const serviceSchemaV4 = `
DROP INDEX ledger_sealed_request;
CREATE UNIQUE INDEX ledger_sealed_request ON ledger(township_code, request_id) WHERE result = 'sealed';
CREATE TABLE results_by_township (
	township_code TEXT NOT NULL,
	request_id    TEXT NOT NULL,
	seq           INTEGER NOT NULL UNIQUE REFERENCES ledger(seq),
	document      BLOB NOT NULL,
	document_ref  BLOB,
	PRIMARY KEY (township_code, request_id)
) STRICT;
INSERT INTO results_by_township (township_code, request_id, seq, document, document_ref)
	SELECT l.township_code, r.request_id, r.seq, r.document, r.document_ref FROM results r JOIN ledger l ON l.seq = r.seq;
DROP TRIGGER results_no_update;
DROP TABLE results;
ALTER TABLE results_by_township RENAME TO results;
CREATE TRIGGER results_no_update BEFORE UPDATE ON results
BEGIN SELECT RAISE(ABORT, 'sealed results never change'); END;
`
