package postgres

// serviceSchemaV6 indexes the sealed records by seal and time, so that a
// suspension or revocation finds the latest sealing of its seal in one
// probe while it holds the ledger lock (sqlstore's fence): the revocation
// time it fixes must come after that sealing.
const serviceSchemaV6 = `
CREATE INDEX ledger_seal_time ON ledger(seal_id, time_us) WHERE result = 'sealed';
`

// serviceSchemaV7 keeps sealed documents in a table of their own, written
// before the ledger append's transaction (documents.go), so that the
// append holds the ledger lock for small rows only. Like results, the
// documents are stored uncompressed. Results written before keep their
// documents.
const serviceSchemaV7 = `
CREATE TABLE documents (
	id       BIGINT PRIMARY KEY, -- drawn at random by the writer
	document BYTEA NOT NULL
);
ALTER TABLE documents ALTER COLUMN document SET STORAGE EXTERNAL;
CREATE INDEX results_document_ref ON results(document_ref) WHERE document_ref IS NOT NULL;
`
