package sqlite

// serviceSchemaV5 indexes the sealed records by seal and time, so that a
// suspension or revocation finds the latest sealing of its seal in one
// probe while it holds the ledger (sqlstore's fence): the revocation time
// it fixes must come after that sealing.
const serviceSchemaV5 = `
CREATE INDEX ledger_seal_time ON ledger(seal_id, time_us) WHERE result = 'sealed';
`
