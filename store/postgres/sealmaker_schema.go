package postgres

// keystoreSealMakerSchemaV1 holds the county's seal-maker keys
// (keystore.SealMaker), which sign the national seal data (GB/T 38540
// SESeal) of each seal, and those SESeals. A maker key row names its
// private key in keystore_keys (owner "sealmaker:<id>"); the current key is
// the one not retired, and keystore_maker_keys_one_current keeps it one
// across replicas. A seal has one SESeal at a time: the one the county
// made, or one imported from a licensed external seal maker.
const keystoreSealMakerSchemaV1 = `
CREATE TABLE keystore_maker_keys (
	id          TEXT PRIMARY KEY,
	key_id      TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	certificate BYTEA NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	retired_at  TIMESTAMPTZ
);

CREATE UNIQUE INDEX keystore_maker_keys_one_current ON keystore_maker_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

CREATE TABLE keystore_seseals (
	seal_id    TEXT PRIMARY KEY REFERENCES keystore_seals (id),
	es_id      TEXT NOT NULL,
	der        BYTEA NOT NULL,
	imported   BOOLEAN NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
`
