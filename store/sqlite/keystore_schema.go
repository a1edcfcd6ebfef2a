package sqlite

// keystoreSchemaV1 holds the keystore's tables. Times are UTC text in a fixed
// width (timeLayout), so they sort as text. The rules of the keystore are
// repeated here so that the database refuses to break them whatever writes
// to it:
//   - keystore_seals_one_live: at most one issued, active or suspended seal
//     per township; keystore_seals_one_pending: at most one pending seal;
//   - keystore_seals_transition: only the state changes of
//     keystore.ValidTransition (the list is tested against it);
//   - a seal that has ended does not change; names, key and creation never
//     change; a certificate once set stays;
//   - seals, events and CRLs are never deleted; events and CRLs never change;
//   - a key's handle may be rewrapped or erased (destroyed), never restored.
//
// The links between seals of a rotation are checked at commit (deferred),
// because the old seal names its replacement before the replacement is
// inserted.
const keystoreSchemaV1 = `
CREATE TABLE keystore_meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE keystore_keys (
	id           TEXT PRIMARY KEY,
	owner        TEXT NOT NULL UNIQUE,
	backend      TEXT NOT NULL,
	backend_id   TEXT NOT NULL,
	public_key   BLOB NOT NULL,
	handle       BLOB,
	created_at   TEXT NOT NULL,
	destroyed_at TEXT,
	CHECK ((handle IS NULL) = (destroyed_at IS NOT NULL))
) STRICT;

CREATE TRIGGER keystore_keys_fixed BEFORE UPDATE ON keystore_keys
WHEN NEW.id IS NOT OLD.id OR NEW.owner IS NOT OLD.owner OR NEW.backend IS NOT OLD.backend
  OR NEW.public_key IS NOT OLD.public_key OR NEW.created_at IS NOT OLD.created_at
  OR (OLD.handle IS NULL AND NEW.handle IS NOT NULL)
BEGIN SELECT RAISE(ABORT, 'keystore: key is immutable or destroyed'); END;

CREATE TRIGGER keystore_keys_no_delete BEFORE DELETE ON keystore_keys
BEGIN SELECT RAISE(ABORT, 'keystore: keys are never deleted'); END;

CREATE TABLE keystore_ca (
	singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
	key_id      TEXT REFERENCES keystore_keys (id),
	certificate BLOB NOT NULL,
	chain       BLOB NOT NULL,
	created_at  TEXT NOT NULL
) STRICT;

CREATE TRIGGER keystore_ca_fixed BEFORE UPDATE ON keystore_ca
BEGIN SELECT RAISE(ABORT, 'keystore: the CA is immutable'); END;

CREATE TRIGGER keystore_ca_no_delete BEFORE DELETE ON keystore_ca
BEGIN SELECT RAISE(ABORT, 'keystore: the CA is never deleted'); END;

CREATE TABLE keystore_seals (
	id                TEXT PRIMARY KEY,
	township_code     TEXT NOT NULL,
	organization      TEXT NOT NULL,
	name              TEXT NOT NULL,
	state             TEXT NOT NULL
	                  CHECK (state IN ('pending', 'issued', 'active', 'suspended', 'rotated', 'revoked')),
	key_id            TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	certificate       BLOB,
	serial            TEXT UNIQUE,
	not_before        TEXT,
	not_after         TEXT,
	created_at        TEXT NOT NULL,
	suspended_at      TEXT,
	ended_at          TEXT,
	revocation_reason INTEGER NOT NULL DEFAULT 0,
	replaces          TEXT REFERENCES keystore_seals (id) DEFERRABLE INITIALLY DEFERRED,
	replaced_by       TEXT REFERENCES keystore_seals (id) DEFERRABLE INITIALLY DEFERRED,
	version           INTEGER NOT NULL CHECK (version > 0),
	CHECK ((certificate IS NULL) = (serial IS NULL)),
	CHECK (certificate IS NOT NULL OR state IN ('pending', 'revoked')),
	CHECK (state <> 'suspended' OR suspended_at IS NOT NULL),
	CHECK ((state IN ('rotated', 'revoked')) = (ended_at IS NOT NULL)),
	CHECK (state <> 'rotated' OR replaced_by IS NOT NULL)
) STRICT;

CREATE UNIQUE INDEX keystore_seals_one_live ON keystore_seals (township_code)
WHERE state IN ('issued', 'active', 'suspended');

CREATE UNIQUE INDEX keystore_seals_one_pending ON keystore_seals (township_code)
WHERE state = 'pending';

CREATE INDEX keystore_seals_by_township ON keystore_seals (township_code, created_at);

CREATE TRIGGER keystore_seals_transition BEFORE UPDATE OF state ON keystore_seals
WHEN NEW.state IS NOT OLD.state AND OLD.state || '>' || NEW.state NOT IN (
	'pending>issued', 'pending>active', 'pending>revoked',
	'issued>active', 'issued>rotated', 'issued>revoked',
	'active>suspended', 'active>rotated', 'active>revoked',
	'suspended>active', 'suspended>revoked')
BEGIN SELECT RAISE(ABORT, 'keystore: invalid seal state transition'); END;

CREATE TRIGGER keystore_seals_fixed BEFORE UPDATE ON keystore_seals
WHEN OLD.state IN ('rotated', 'revoked')
  OR NEW.id IS NOT OLD.id OR NEW.township_code IS NOT OLD.township_code
  OR NEW.organization IS NOT OLD.organization OR NEW.name IS NOT OLD.name
  OR NEW.key_id IS NOT OLD.key_id OR NEW.created_at IS NOT OLD.created_at
  OR NEW.replaces IS NOT OLD.replaces
  OR (OLD.certificate IS NOT NULL AND NEW.certificate IS NOT OLD.certificate)
  OR (OLD.serial IS NOT NULL AND NEW.serial IS NOT OLD.serial)
BEGIN SELECT RAISE(ABORT, 'keystore: invalid seal state transition: fixed field or ended seal'); END;

CREATE TRIGGER keystore_seals_no_delete BEFORE DELETE ON keystore_seals
BEGIN SELECT RAISE(ABORT, 'keystore: seals are never deleted'); END;

CREATE TABLE keystore_events (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	seal_id    TEXT NOT NULL REFERENCES keystore_seals (id),
	action     TEXT NOT NULL,
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	at         TEXT NOT NULL,
	detail     TEXT NOT NULL
) STRICT;

CREATE INDEX keystore_events_by_seal ON keystore_events (seal_id, seq);

CREATE TRIGGER keystore_events_no_update BEFORE UPDATE ON keystore_events
BEGIN SELECT RAISE(ABORT, 'keystore: events are append-only'); END;

CREATE TRIGGER keystore_events_no_delete BEFORE DELETE ON keystore_events
BEGIN SELECT RAISE(ABORT, 'keystore: events are append-only'); END;

CREATE TABLE keystore_crls (
	number      INTEGER PRIMARY KEY CHECK (number > 0),
	this_update TEXT NOT NULL,
	next_update TEXT NOT NULL,
	der         BLOB NOT NULL
) STRICT;

CREATE TRIGGER keystore_crls_no_update BEFORE UPDATE ON keystore_crls
BEGIN SELECT RAISE(ABORT, 'keystore: CRLs are append-only'); END;

CREATE TRIGGER keystore_crls_no_delete BEFORE DELETE ON keystore_crls
BEGIN SELECT RAISE(ABORT, 'keystore: CRLs are append-only'); END;
`
