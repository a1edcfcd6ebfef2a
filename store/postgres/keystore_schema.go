package postgres

// keystoreSchemaV1 is the PostgreSQL form of the keystore's tables; see
// store/sqlite's keystoreSchemaV1, whose columns and rules it mirrors. The
// database refuses to break the keystore's rules whatever writes to it:
//   - keystore_seals_one_live: at most one issued, active or suspended seal
//     per township; keystore_seals_one_pending: at most one pending seal;
//   - keystore_seals_guard: only the state changes of
//     keystore.ValidTransition (the list is tested against it); a seal that
//     has ended does not change; names, key, creation and the seal it
//     replaces never change; a certificate once set stays;
//   - seals, keys, the CA, events and CRLs are never deleted; the CA, events
//     and CRLs never change; a key's handle may be rewrapped or erased
//     (destroyed), never restored.
//
// The links between the seals of a rotation are foreign keys checked at
// commit (DEFERRABLE INITIALLY DEFERRED), because the old seal names its
// replacement before the replacement is inserted.
//
// The trigger functions raise SQLSTATE ES001 for a forbidden change of
// state or of a fixed field, and ES002 for an update or delete of what never
// changes, so that the store maps them to keystore's errors without reading
// messages. Times are timestamptz (microseconds); positions (pos) keep the
// insertion order that SQLite's rowid gives.
const keystoreSchemaV1 = `
CREATE TABLE keystore_meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE keystore_keys (
	id           TEXT PRIMARY KEY,
	owner        TEXT NOT NULL UNIQUE,
	backend      TEXT NOT NULL,
	backend_id   TEXT NOT NULL,
	public_key   BYTEA NOT NULL,
	handle       BYTEA,
	created_at   TIMESTAMPTZ NOT NULL,
	destroyed_at TIMESTAMPTZ,
	CHECK ((handle IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE FUNCTION keystore_never_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'keystore: % rows never change (%)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'ES002';
END $$;

CREATE FUNCTION keystore_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.id IS DISTINCT FROM OLD.id OR NEW.owner IS DISTINCT FROM OLD.owner
	   OR NEW.backend IS DISTINCT FROM OLD.backend OR NEW.public_key IS DISTINCT FROM OLD.public_key
	   OR NEW.created_at IS DISTINCT FROM OLD.created_at
	   OR (OLD.handle IS NULL AND NEW.handle IS NOT NULL) THEN
		RAISE EXCEPTION 'keystore: key % is immutable or destroyed', OLD.id USING ERRCODE = 'ES002';
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER keystore_keys_fixed BEFORE UPDATE ON keystore_keys
	FOR EACH ROW EXECUTE FUNCTION keystore_keys_guard();
CREATE TRIGGER keystore_keys_no_delete BEFORE DELETE ON keystore_keys
	FOR EACH ROW EXECUTE FUNCTION keystore_never_changes();

CREATE TABLE keystore_ca (
	singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
	key_id      TEXT REFERENCES keystore_keys (id),
	certificate BYTEA NOT NULL,
	chain       BYTEA NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL
);

CREATE TRIGGER keystore_ca_fixed BEFORE UPDATE OR DELETE ON keystore_ca
	FOR EACH ROW EXECUTE FUNCTION keystore_never_changes();

CREATE TABLE keystore_seals (
	id                TEXT PRIMARY KEY,
	pos               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
	township_code     TEXT NOT NULL,
	organization      TEXT NOT NULL,
	name              TEXT NOT NULL,
	state             TEXT NOT NULL
	                  CHECK (state IN ('pending', 'issued', 'active', 'suspended', 'rotated', 'revoked')),
	key_id            TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	certificate       BYTEA,
	serial            TEXT UNIQUE,
	not_before        TIMESTAMPTZ,
	not_after         TIMESTAMPTZ,
	created_at        TIMESTAMPTZ NOT NULL,
	suspended_at      TIMESTAMPTZ,
	ended_at          TIMESTAMPTZ,
	revocation_reason INTEGER NOT NULL DEFAULT 0,
	replaces          TEXT REFERENCES keystore_seals (id) DEFERRABLE INITIALLY DEFERRED,
	replaced_by       TEXT REFERENCES keystore_seals (id) DEFERRABLE INITIALLY DEFERRED,
	version           BIGINT NOT NULL CHECK (version > 0),
	CHECK ((certificate IS NULL) = (serial IS NULL)),
	CHECK (certificate IS NOT NULL OR state IN ('pending', 'revoked')),
	CHECK (state <> 'suspended' OR suspended_at IS NOT NULL),
	CHECK ((state IN ('rotated', 'revoked')) = (ended_at IS NOT NULL)),
	CHECK (state <> 'rotated' OR replaced_by IS NOT NULL)
);

CREATE UNIQUE INDEX keystore_seals_one_live ON keystore_seals (township_code)
	WHERE state IN ('issued', 'active', 'suspended');
CREATE UNIQUE INDEX keystore_seals_one_pending ON keystore_seals (township_code)
	WHERE state = 'pending';
CREATE INDEX keystore_seals_by_township ON keystore_seals (township_code, created_at);

CREATE FUNCTION keystore_seals_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.state IN ('rotated', 'revoked')
	   OR NEW.id IS DISTINCT FROM OLD.id OR NEW.township_code IS DISTINCT FROM OLD.township_code
	   OR NEW.organization IS DISTINCT FROM OLD.organization OR NEW.name IS DISTINCT FROM OLD.name
	   OR NEW.key_id IS DISTINCT FROM OLD.key_id OR NEW.created_at IS DISTINCT FROM OLD.created_at
	   OR NEW.replaces IS DISTINCT FROM OLD.replaces OR NEW.pos IS DISTINCT FROM OLD.pos
	   OR (OLD.certificate IS NOT NULL AND NEW.certificate IS DISTINCT FROM OLD.certificate)
	   OR (OLD.serial IS NOT NULL AND NEW.serial IS DISTINCT FROM OLD.serial) THEN
		RAISE EXCEPTION 'keystore: invalid seal state transition: fixed field or ended seal %', OLD.id
			USING ERRCODE = 'ES001';
	END IF;
	IF NEW.state <> OLD.state AND OLD.state || '>' || NEW.state NOT IN (
		'pending>issued', 'pending>active', 'pending>revoked',
		'issued>active', 'issued>rotated', 'issued>revoked',
		'active>suspended', 'active>rotated', 'active>revoked',
		'suspended>active', 'suspended>revoked') THEN
		RAISE EXCEPTION 'keystore: invalid seal state transition: seal % from % to %', OLD.id, OLD.state, NEW.state
			USING ERRCODE = 'ES001';
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER keystore_seals_fixed BEFORE UPDATE ON keystore_seals
	FOR EACH ROW EXECUTE FUNCTION keystore_seals_guard();
CREATE TRIGGER keystore_seals_no_delete BEFORE DELETE ON keystore_seals
	FOR EACH ROW EXECUTE FUNCTION keystore_never_changes();

CREATE TABLE keystore_events (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	seal_id    TEXT NOT NULL REFERENCES keystore_seals (id),
	action     TEXT NOT NULL,
	from_state TEXT NOT NULL,
	to_state   TEXT NOT NULL,
	at         TIMESTAMPTZ NOT NULL,
	detail     TEXT NOT NULL
);

CREATE INDEX keystore_events_by_seal ON keystore_events (seal_id, seq);

CREATE TRIGGER keystore_events_append_only BEFORE UPDATE OR DELETE ON keystore_events
	FOR EACH ROW EXECUTE FUNCTION keystore_never_changes();

CREATE TABLE keystore_crls (
	number      BIGINT PRIMARY KEY CHECK (number > 0),
	this_update TIMESTAMPTZ NOT NULL,
	next_update TIMESTAMPTZ NOT NULL,
	der         BYTEA NOT NULL
);

CREATE TRIGGER keystore_crls_append_only BEFORE UPDATE OR DELETE ON keystore_crls
	FOR EACH ROW EXECUTE FUNCTION keystore_never_changes();

CREATE TRIGGER keystore_no_truncate BEFORE TRUNCATE ON keystore_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keystore_never_changes();
CREATE TRIGGER keystore_no_truncate BEFORE TRUNCATE ON keystore_ca
	FOR EACH STATEMENT EXECUTE FUNCTION keystore_never_changes();
CREATE TRIGGER keystore_no_truncate BEFORE TRUNCATE ON keystore_seals
	FOR EACH STATEMENT EXECUTE FUNCTION keystore_never_changes();
CREATE TRIGGER keystore_no_truncate BEFORE TRUNCATE ON keystore_events
	FOR EACH STATEMENT EXECUTE FUNCTION keystore_never_changes();
CREATE TRIGGER keystore_no_truncate BEFORE TRUNCATE ON keystore_crls
	FOR EACH STATEMENT EXECUTE FUNCTION keystore_never_changes();
`

// keystoreLedgerSchemaV1 holds the keys that sign ledger checkpoints; see
// store/sqlite's keystoreLedgerSchemaV1, whose rules it mirrors: at most one
// current and one pending ledger key, only pending -> current -> retired,
// fixed id, key, creation and certificate, no deletes, and each row's key
// owned by "ledger:<id>".
const keystoreLedgerSchemaV1 = `
CREATE TABLE keystore_ledger_keys (
	id          TEXT PRIMARY KEY,
	pos         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
	key_id      TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	state       TEXT NOT NULL CHECK (state IN ('pending', 'current', 'retired')),
	certificate BYTEA,
	created_at  TIMESTAMPTZ NOT NULL,
	retired_at  TIMESTAMPTZ,
	CHECK (certificate IS NOT NULL OR state = 'pending'),
	CHECK ((state = 'retired') = (retired_at IS NOT NULL))
);

CREATE UNIQUE INDEX keystore_ledger_keys_one_current ON keystore_ledger_keys (state) WHERE state = 'current';
CREATE UNIQUE INDEX keystore_ledger_keys_one_pending ON keystore_ledger_keys (state) WHERE state = 'pending';

CREATE FUNCTION keystore_ledger_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF (SELECT owner FROM keystore_keys WHERE id = NEW.key_id) IS DISTINCT FROM 'ledger:' || NEW.id THEN
			RAISE EXCEPTION 'keystore: invalid ledger key %: its key belongs to another owner', NEW.id
				USING ERRCODE = 'ES001';
		END IF;
		RETURN NEW;
	END IF;
	IF OLD.state = 'retired'
	   OR (NEW.state <> OLD.state AND OLD.state || '>' || NEW.state NOT IN ('pending>current', 'current>retired'))
	   OR NEW.id IS DISTINCT FROM OLD.id OR NEW.key_id IS DISTINCT FROM OLD.key_id
	   OR NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.pos IS DISTINCT FROM OLD.pos
	   OR (OLD.certificate IS NOT NULL AND NEW.certificate IS DISTINCT FROM OLD.certificate) THEN
		RAISE EXCEPTION 'keystore: invalid ledger key transition: % from % to %', OLD.id, OLD.state, NEW.state
			USING ERRCODE = 'ES001';
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER keystore_ledger_keys_guard BEFORE INSERT OR UPDATE ON keystore_ledger_keys
	FOR EACH ROW EXECUTE FUNCTION keystore_ledger_keys_guard();
CREATE TRIGGER keystore_ledger_keys_no_delete BEFORE DELETE ON keystore_ledger_keys
	FOR EACH ROW EXECUTE FUNCTION keystore_never_changes();
CREATE TRIGGER keystore_no_truncate BEFORE TRUNCATE ON keystore_ledger_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keystore_never_changes();
`
