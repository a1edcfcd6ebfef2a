package postgres

// serviceSchemaV8 widens the ledger's result column to the two record
// kinds added with supervision results and seal lifecycle events:
// 'supervised' (a supervising department's result against a case,
// seal/supervision.go) and 'lifecycle' (a seal's issue, suspension,
// resumption, rotation or revocation, seal/lifecycle.go). PostgreSQL
// replaces the CHECK in place (ledger_result_check is the name it gave the
// column's CHECK of serviceSchemaV1); the rows, the append-only trigger and
// the indexes stay as they are. The partial unique index on sealed request
// ids stays WHERE result = 'sealed', so a supervision or lifecycle record
// never collides with a sealing. ledger_case serves a case's story (every
// record of one township's case, in ledger order).
const serviceSchemaV8 = `
ALTER TABLE ledger DROP CONSTRAINT ledger_result_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_result_check
	CHECK (result IN ('sealed', 'refused', 'supervised', 'lifecycle'));
CREATE INDEX ledger_case ON ledger(township_code, case_no, seq);
`
