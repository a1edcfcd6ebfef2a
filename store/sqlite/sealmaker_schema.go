package sqlite

// keystoreSealMakerSchemaV1 holds the county's seal-maker keys
// (keystore.SealMaker), which sign the national seal data (GB/T 38540
// SESeal) of each seal, and those SESeals. A maker key row names its
// private key in keystore_keys (owner "sealmaker:<id>"), so KEK rotation
// rewraps it with the others; the current key is the one not retired, and
// keystore_maker_keys_one_current keeps it one. A seal has one SESeal at a
// time: the one the county made, or one imported from a licensed external
// seal maker, which replaces it.
const keystoreSealMakerSchemaV1 = `
CREATE TABLE keystore_maker_keys (
	id          TEXT PRIMARY KEY,
	key_id      TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	certificate BLOB NOT NULL,
	created_at  TEXT NOT NULL,
	retired_at  TEXT
) STRICT;

CREATE UNIQUE INDEX keystore_maker_keys_one_current ON keystore_maker_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

CREATE TRIGGER keystore_maker_keys_owner BEFORE INSERT ON keystore_maker_keys
WHEN (SELECT owner FROM keystore_keys WHERE id = NEW.key_id) IS NOT 'sealmaker:' || NEW.id
BEGIN SELECT RAISE(ABORT, 'keystore: invalid seal-maker key: its key belongs to another owner'); END;

CREATE TABLE keystore_seseals (
	seal_id    TEXT PRIMARY KEY REFERENCES keystore_seals (id),
	es_id      TEXT NOT NULL,
	der        BLOB NOT NULL,
	imported   INTEGER NOT NULL CHECK (imported IN (0, 1)),
	created_at TEXT NOT NULL
) STRICT;
`
