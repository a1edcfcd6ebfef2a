package sqlstore

// The keystore's tables' columns, in the order the scan functions read them.
const (
	ksKeyColumns  = "id, owner, backend, backend_id, public_key, handle, created_at, destroyed_at"
	ksSealColumns = `id, township_code, organization, name, state, key_id, certificate, serial,
	not_before, not_after, created_at, suspended_at, ended_at, revocation_reason, replaces, replaced_by, version`
	ksLedgerKeyColumns = "id, key_id, state, certificate, created_at, retired_at"
	ksEventColumns     = "seq, seal_id, action, from_state, to_state, at, detail"
	ksLiveStates       = "state IN ('issued', 'active', 'suspended')"
)

// backendIDKey names the keystore_meta row that records the key backend.
const backendIDKey = "backend_id"

// keystoreQueries are the keystore's constant statements, written with ?
// placeholders. A few depend on the backend (row locks, insertion order),
// so they are built once per Keystore. The reads run on the read pool; the
// writes run in write transactions, prepared before one begins (see
// Keystore.write) for the same reason as writeQueries.
type keystoreQueries struct {
	// Reads.
	claimed, ca, key, seal, liveSeal, sealsOrder, events, latestCRL, ledgerKeys string

	// Writes and the reads inside write transactions.
	backendID, insertMeta, setBackendID                    string
	countCA, insertCA                                      string
	insertKey, keyHandle, destroyKey, liveKeys, rewrapKey  string
	sealVersion, otherLive, otherPending, insertSeal       string
	updateSeal, insertEvent                                string
	nextCRL, insertCRL                                     string
	ledgerKey, ledgerKeyState, otherLedgerKey              string
	insertLedgerKey, makeLedgerKeyCurrent, retireLedgerKey string
}

func newKeystoreQueries(b KeystoreBackend) *keystoreQueries {
	forUpdate, order := b.ForUpdate(), b.InsertionOrder()
	return &keystoreQueries{
		claimed:    "SELECT value FROM keystore_meta WHERE name = ?",
		ca:         "SELECT key_id, certificate, chain, created_at FROM keystore_ca",
		key:        "SELECT " + ksKeyColumns + " FROM keystore_keys WHERE id = ?",
		seal:       "SELECT " + ksSealColumns + " FROM keystore_seals WHERE id = ?",
		liveSeal:   "SELECT " + ksSealColumns + " FROM keystore_seals WHERE township_code = ? AND " + ksLiveStates,
		sealsOrder: " ORDER BY created_at, " + order,
		events:     "SELECT " + ksEventColumns + " FROM keystore_events WHERE seal_id = ? ORDER BY seq",
		latestCRL:  "SELECT number, this_update, next_update, der FROM keystore_crls ORDER BY number DESC LIMIT 1",
		ledgerKeys: "SELECT " + ksLedgerKeyColumns + " FROM keystore_ledger_keys ORDER BY created_at, " + order,

		backendID:    "SELECT value FROM keystore_meta WHERE name = ?",
		insertMeta:   "INSERT INTO keystore_meta (name, value) VALUES (?, ?)",
		setBackendID: "UPDATE keystore_meta SET value = ? WHERE name = ?",

		countCA:  "SELECT COUNT(*) FROM keystore_ca",
		insertCA: "INSERT INTO keystore_ca (singleton, key_id, certificate, chain, created_at) VALUES (1, ?, ?, ?, ?)",

		insertKey: `INSERT INTO keystore_keys
		(id, owner, backend, backend_id, public_key, handle, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		keyHandle:  "SELECT handle FROM keystore_keys WHERE id = ?",
		destroyKey: "UPDATE keystore_keys SET handle = NULL, destroyed_at = ? WHERE id = ?",
		liveKeys:   "SELECT " + ksKeyColumns + " FROM keystore_keys WHERE handle IS NOT NULL ORDER BY id",
		rewrapKey:  "UPDATE keystore_keys SET handle = ?, backend_id = ? WHERE id = ? AND handle IS NOT NULL",

		sealVersion:  "SELECT state, version FROM keystore_seals WHERE id = ?" + forUpdate,
		otherLive:    "SELECT id FROM keystore_seals WHERE township_code = ? AND id <> ? AND " + ksLiveStates,
		otherPending: "SELECT id FROM keystore_seals WHERE township_code = ? AND id <> ? AND state = 'pending'",
		insertSeal:   "INSERT INTO keystore_seals (" + ksSealColumns + ") VALUES (" + placeholders(16) + ", 1)",
		updateSeal: `UPDATE keystore_seals SET
		state = ?, certificate = ?, serial = ?, not_before = ?, not_after = ?, suspended_at = ?, ended_at = ?,
		revocation_reason = ?, replaced_by = ?, version = version + 1,
		township_code = ?, organization = ?, name = ?, key_id = ?, created_at = ?, replaces = ?
		WHERE id = ? AND version = ?`,
		insertEvent: `INSERT INTO keystore_events (seal_id, action, from_state, to_state, at, detail)
		VALUES (?, ?, ?, ?, ?, ?)`,

		nextCRL:   "SELECT COALESCE(MAX(number), 0) + 1 FROM keystore_crls",
		insertCRL: "INSERT INTO keystore_crls (number, this_update, next_update, der) VALUES (?, ?, ?, ?)",

		ledgerKey:            "SELECT " + ksLedgerKeyColumns + " FROM keystore_ledger_keys WHERE id = ?" + forUpdate,
		ledgerKeyState:       "SELECT state, key_id FROM keystore_ledger_keys WHERE id = ?" + forUpdate,
		otherLedgerKey:       "SELECT id FROM keystore_ledger_keys WHERE state = ? AND id <> ?",
		insertLedgerKey:      "INSERT INTO keystore_ledger_keys (" + ksLedgerKeyColumns + ") VALUES (?, ?, ?, ?, ?, NULL)",
		makeLedgerKeyCurrent: "UPDATE keystore_ledger_keys SET state = ?, certificate = ? WHERE id = ?",
		retireLedgerKey:      "UPDATE keystore_ledger_keys SET state = 'retired', retired_at = ? WHERE id = ?",
	}
}

// writes lists the statements write transactions use, for preparing.
func (q *keystoreQueries) writes() []string {
	return []string{
		q.backendID, q.insertMeta, q.setBackendID,
		q.countCA, q.insertCA,
		q.insertKey, q.keyHandle, q.destroyKey, q.liveKeys, q.rewrapKey,
		q.sealVersion, q.otherLive, q.otherPending, q.insertSeal, q.updateSeal, q.insertEvent,
		q.nextCRL, q.insertCRL,
		q.ledgerKey, q.ledgerKeyState, q.otherLedgerKey, q.insertLedgerKey, q.makeLedgerKeyCurrent, q.retireLedgerKey,
	}
}

// signingReads lists the reads on the signing path, prepared when the
// Keystore is made (Prepare) so that a broken schema shows at once.
func (q *keystoreQueries) signingReads() []string {
	return []string{q.liveSeal, q.seal, q.key}
}
