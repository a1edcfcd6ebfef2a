package postgres

// serviceSchemaLookup indexes sealed records by the SM3 of the document
// the service received, for the public lookup by a verification QR code's
// short form (store/sqlstore/ledger_lookup.go): a range scan on the
// hash's leading bytes (bytea compares as bytes). Only sealed records are
// indexed, and only they are ever looked up.
const serviceSchemaLookup = `
CREATE INDEX ledger_sealed_input ON ledger (input_sm3) WHERE result = 'sealed';
`
