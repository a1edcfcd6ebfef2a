package postgres

// serviceSchemaV9 lets the retention purge delete results (sqlstore's
// PurgeDocuments): their rows may now be deleted, never changed. The
// ledger and the checkpoints stay append-only, so a deleted document's
// record, with its input and output SM3 and its place in the chain, stays.
// (SQLite's results table never refused a DELETE: it needs no migration.)
const serviceSchemaV9 = `
DROP TRIGGER results_append_only ON results;
CREATE TRIGGER results_no_update BEFORE UPDATE ON results
	FOR EACH ROW EXECUTE FUNCTION eseal_append_only();
`
