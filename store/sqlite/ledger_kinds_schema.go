package sqlite

// serviceSchemaV6 widens the ledger's result column to the two record
// kinds added with supervision results and seal lifecycle events:
// 'supervised' (a supervising department's result against a case,
// seal/supervision.go) and 'lifecycle' (a seal's issue, suspension,
// resumption, rotation or revocation, seal/lifecycle.go).
//
// SQLite cannot alter a CHECK, so the table is rebuilt, keeping every row
// as it is (the hash chain covers them), and then its indexes and its
// append-only triggers are made again as they were. results.seq refers to
// ledger(seq), and foreign keys are on, while PRAGMA foreign_keys cannot
// change inside the migration's transaction; so the rows are first copied
// aside, and the checks are deferred to the commit
// (PRAGMA defer_foreign_keys, which ends with the transaction): dropping
// the old table orphans the results for a moment, and putting the rows
// back into the new table with the same name adopts them again before the
// commit checks. A row the copy lost would fail the commit.
//
// The partial unique index on sealed request ids stays WHERE result =
// 'sealed': a supervision or lifecycle record may carry any request id
// (even one a sealing used) without colliding with a sealing.
const serviceSchemaV6 = `
PRAGMA defer_foreign_keys = ON;
CREATE TABLE ledger_v10_copy AS SELECT * FROM ledger;
DROP TABLE ledger;
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
	result        TEXT NOT NULL CHECK (result IN ('sealed', 'refused', 'supervised', 'lifecycle')),
	rule          TEXT NOT NULL,
	detail        TEXT NOT NULL,
	prev_hash     BLOB NOT NULL,
	hash          BLOB NOT NULL
) STRICT;
INSERT INTO ledger (seq, time_us, request_id, township_code, seal_id, cert_serial, item_code, domain, case_no,
	principal, service_window, doc_kind, input_sm3, output_sm3, result, rule, detail, prev_hash, hash)
	SELECT seq, time_us, request_id, township_code, seal_id, cert_serial, item_code, domain, case_no,
	principal, service_window, doc_kind, input_sm3, output_sm3, result, rule, detail, prev_hash, hash
	FROM ledger_v10_copy ORDER BY seq;
DROP TABLE ledger_v10_copy;
CREATE UNIQUE INDEX ledger_sealed_request ON ledger(township_code, request_id) WHERE result = 'sealed';
CREATE INDEX ledger_township ON ledger(township_code, seq);
CREATE INDEX ledger_domain ON ledger(domain, seq);
CREATE INDEX ledger_seal_time ON ledger(seal_id, time_us) WHERE result = 'sealed';
CREATE INDEX ledger_case ON ledger(township_code, case_no, seq);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger records never change'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger records are never deleted'); END;
`
