package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestMigrationScopesRequestIDs: a result sealed before request ids were
// scoped to the township is found under its township after the upgrade,
// and another township may then seal the same request id.
func TestMigrationScopesRequestIDs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seal.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	before := migrationsBefore(t, serviceSchemaV4)
	if err := migrateList(ctx, old, before); err != nil {
		t.Fatal(err)
	}
	rec := storetest.NewRecord(1, seal.ResultSealed)
	rec.Link(nil)
	if _, err := old.ExecContext(ctx, `INSERT INTO ledger (seq, time_us, request_id, township_code, seal_id, cert_serial,
		item_code, domain, case_no, principal, service_window, doc_kind, input_sm3, output_sm3, result, rule, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rec.Seq, rec.Time.UnixMicro(), rec.RequestID, rec.Township, rec.SealID, rec.CertSerial, rec.Item, rec.Domain, rec.CaseNo,
		rec.Principal, string(rec.Window), rec.DocKind, rec.InputSM3, rec.OutputSM3, string(rec.Result), "", "", rec.PrevHash, rec.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, `INSERT INTO results (request_id, seq, document) VALUES (?, 1, ?)`, rec.RequestID, []byte("%PDF-old")); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := db.Service()
	got, doc, err := st.Result(ctx, rec.Township, rec.RequestID)
	if err != nil || string(doc) != "%PDF-old" || got.Seq != 1 {
		t.Fatalf("the old result after the upgrade: %+v, %q, %v", got, doc, err)
	}
	other := storetest.NewRecord(1, seal.ResultSealed)
	other.Township = "450224101"
	if r, err := st.Append(ctx, other, []byte("%PDF-other")); err != nil || r.Seq != 2 {
		t.Fatalf("another township's sealing of the same request id: %+v, %v", r, err)
	}
	if _, err := st.Append(ctx, storetest.NewRecord(1, seal.ResultSealed), []byte("again")); err == nil {
		t.Fatal("the old request id sealed twice in its own township")
	}
}
