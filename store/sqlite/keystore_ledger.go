package sqlite

// keystoreLedgerSchemaV1 holds the keys that sign ledger checkpoints (see
// keystore.LedgerSigner). Each row names its private key in keystore_keys,
// whose owner must be "ledger:<id>", so KEK rotation rewraps it with the
// others. The database keeps the rules:
//   - keystore_ledger_keys_one_current, _one_pending: at most one current and
//     one pending ledger key, so replicas that make one at once keep one;
//   - only pending -> current and current -> retired; a retired key, the
//     id, the key and the creation time never change, nor a certificate
//     once set; rows are never deleted.
const keystoreLedgerSchemaV1 = `
CREATE TABLE keystore_ledger_keys (
	id          TEXT PRIMARY KEY,
	key_id      TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	state       TEXT NOT NULL CHECK (state IN ('pending', 'current', 'retired')),
	certificate BLOB,
	created_at  TEXT NOT NULL,
	retired_at  TEXT,
	CHECK (certificate IS NOT NULL OR state = 'pending'),
	CHECK ((state = 'retired') = (retired_at IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX keystore_ledger_keys_one_current ON keystore_ledger_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX keystore_ledger_keys_one_pending ON keystore_ledger_keys (state) WHERE state = 'pending';

CREATE TRIGGER keystore_ledger_keys_owner BEFORE INSERT ON keystore_ledger_keys
WHEN (SELECT owner FROM keystore_keys WHERE id = NEW.key_id) IS NOT 'ledger:' || NEW.id
BEGIN SELECT RAISE(ABORT, 'keystore: invalid ledger key: its key belongs to another owner'); END;

CREATE TRIGGER keystore_ledger_keys_transition BEFORE UPDATE ON keystore_ledger_keys
WHEN OLD.state = 'retired'
  OR (NEW.state IS NOT OLD.state AND OLD.state || '>' || NEW.state NOT IN ('pending>current', 'current>retired'))
  OR NEW.id IS NOT OLD.id OR NEW.key_id IS NOT OLD.key_id OR NEW.created_at IS NOT OLD.created_at
  OR (OLD.certificate IS NOT NULL AND NEW.certificate IS NOT OLD.certificate)
BEGIN SELECT RAISE(ABORT, 'keystore: invalid ledger key transition'); END;

CREATE TRIGGER keystore_ledger_keys_no_delete BEFORE DELETE ON keystore_ledger_keys
BEGIN SELECT RAISE(ABORT, 'keystore: ledger keys are never deleted'); END;
`
