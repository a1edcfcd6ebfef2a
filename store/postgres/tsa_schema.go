package postgres

// keystoreTSASchemaV1 holds the county TSA's keys (keystore.TSAKey) and the
// counter its serial numbers come from (tsa.SerialSource), shared by every
// replica: a block is taken by incrementing the one counter row under the
// keystore lock, so no two replicas issue the same serial. Each key row
// names its private key in keystore_keys (owner "tsa:<id>"); the current
// key is the one not retired, and keystore_tsa_keys_one_current keeps it
// one.
const keystoreTSASchemaV1 = `
CREATE TABLE keystore_tsa_keys (
	id          TEXT PRIMARY KEY,
	key_id      TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	certificate BYTEA NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	retired_at  TIMESTAMPTZ
);

CREATE UNIQUE INDEX keystore_tsa_keys_one_current ON keystore_tsa_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

CREATE TABLE tsa_serial_blocks (
	singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
	last      BIGINT NOT NULL CHECK (last >= 0)
);
INSERT INTO tsa_serial_blocks (singleton, last) VALUES (1, 0);
`
