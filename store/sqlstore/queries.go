package sqlstore

// The statements that run inside write transactions. They are prepared
// before a transaction begins (see Store.write): the embedded SQLite store
// has a single writer connection, which a transaction holds, so a statement
// cannot be prepared on the pool while one is open.
var (
	qSealedByRequest = `SELECT ` + recordColumns + ` FROM ledger
				WHERE township_code = ? AND request_id = ? AND result = 'sealed'`
	qHead                  = `SELECT ` + recordColumns + ` FROM ledger ORDER BY seq DESC LIMIT 1`
	qInsertRecord          = `INSERT INTO ledger (` + recordColumns + `) VALUES (` + placeholders(19) + `)`
	qInsertResult          = `INSERT INTO results (township_code, request_id, seq, document, document_ref) VALUES (?, ?, ?, ?, ?)`
	qInsertCheckpoint      = `INSERT INTO checkpoints (seq, head, time_us, signature, certificate) VALUES (?, ?, ?, ?, ?)`
	qInsertPrincipal       = `INSERT INTO principals (` + principalColumns + `, created_us) VALUES (?, ?, ?, ?, ?, ?, 0, ?)`
	qPrincipalExists       = `SELECT 1 FROM principals WHERE id = ?`
	qInsertCredential      = `INSERT INTO credentials (kind, hash, lookup, principal_id, created_us, expires_us) VALUES (?, ?, ?, ?, ?, ?)`
	qDisablePrincipal      = `UPDATE principals SET disabled = 1 WHERE id = ?`
	qPrincipalByID         = `SELECT ` + principalColumns + ` FROM principals WHERE id = ?`
	qDeleteImplementations = `DELETE FROM implementations WHERE township_code = ?`
	qInsertImplementation  = `INSERT INTO implementations (township_code, item_code) VALUES (?, ?)`
	qSetItemActive         = `UPDATE items SET active = ? WHERE code = ?`
	qItemByCode            = `SELECT ` + itemColumns + ` FROM items WHERE code = ?`
	qUpsertTownship        = `INSERT INTO townships (code, name, kind, seal_name) VALUES (?, ?, ?, ?)
				ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, seal_name = excluded.seal_name`
	qUpsertItem = `INSERT INTO items (` + itemColumns + `) VALUES (` + placeholders(10) + `)
				ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type, service_window = excluded.service_window,
				domain = excluded.domain, supervisor = excluded.supervisor, legal_basis = excluded.legal_basis,
				time_limit_days = excluded.time_limit_days, documents = excluded.documents, active = excluded.active`
)

// writeQueries lists them, for preparing.
var writeQueries = []string{
	qSealedByRequest,
	qHead,
	qInsertRecord,
	qInsertResult,
	qInsertCheckpoint,
	qInsertPrincipal,
	qPrincipalExists,
	qInsertCredential,
	qLockPrincipal,
	qNewestToken,
	qCutTokens,
	qDisablePrincipal,
	qPrincipalByID,
	qDeleteImplementations,
	qInsertImplementation,
	qSetItemActive,
	qItemByCode,
	qUpsertTownship,
	qUpsertItem,
}
