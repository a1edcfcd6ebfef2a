package sqlite

// keystoreTSASchemaV1 holds the county TSA's keys (keystore.TSAKey) and the
// counter its serial numbers come from (tsa.SerialSource). Each key row
// names its private key in keystore_keys (owner "tsa:<id>"), so KEK
// rotation rewraps it with the others. The current key is the one not
// retired; keystore_tsa_keys_one_current keeps it one, so replicas that
// make one at once keep one. A serial block is taken by incrementing the
// one counter row under the keystore lock.
const keystoreTSASchemaV1 = `
CREATE TABLE keystore_tsa_keys (
	id          TEXT PRIMARY KEY,
	key_id      TEXT NOT NULL UNIQUE REFERENCES keystore_keys (id),
	certificate BLOB NOT NULL,
	created_at  TEXT NOT NULL,
	retired_at  TEXT
) STRICT;

CREATE UNIQUE INDEX keystore_tsa_keys_one_current ON keystore_tsa_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;

CREATE TRIGGER keystore_tsa_keys_owner BEFORE INSERT ON keystore_tsa_keys
WHEN (SELECT owner FROM keystore_keys WHERE id = NEW.key_id) IS NOT 'tsa:' || NEW.id
BEGIN SELECT RAISE(ABORT, 'keystore: invalid TSA key: its key belongs to another owner'); END;

CREATE TABLE tsa_serial_blocks (
	singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
	last      INTEGER NOT NULL CHECK (last >= 0)
) STRICT;
INSERT INTO tsa_serial_blocks (singleton, last) VALUES (1, 0);
`
