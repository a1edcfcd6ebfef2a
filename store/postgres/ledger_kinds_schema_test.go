package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/ronganxian/eseal/internal/pgtest"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestMigrationLedgerKinds: a database of migration 12 with sealings,
// refusals and their results keeps every row and hash through migration
// 13, its results are still found, its records still refuse changes, the
// sealed request ids stay unique, and the new kinds are accepted.
func TestMigrationLedgerKinds(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Shared(t).NewDatabase(t)
	old, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateList(ctx, old, migrationsBefore(t, serviceSchemaV8)); err != nil {
		t.Fatal(err)
	}
	const insert = `INSERT INTO ledger (seq, time_us, request_id, township_code, seal_id, cert_serial,
		item_code, domain, case_no, principal, service_window, doc_kind, input_sm3, output_sm3, result, rule, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`
	var prev *seal.Record
	var want []*seal.Record
	for i, res := range []seal.Result{seal.ResultSealed, seal.ResultRefused, seal.ResultSealed} {
		rec := storetest.NewRecord(i+1, res)
		rec.Link(prev)
		prev = rec
		want = append(want, rec)
		if _, err := old.ExecContext(ctx, insert,
			rec.Seq, rec.Time.UnixMicro(), rec.RequestID, rec.Township, rec.SealID, rec.CertSerial, rec.Item, rec.Domain, rec.CaseNo,
			rec.Principal, string(rec.Window), rec.DocKind, rec.InputSM3, rec.OutputSM3, string(rec.Result), string(rec.Rule),
			rec.Detail, rec.PrevHash, rec.Hash); err != nil {
			t.Fatal(err)
		}
		if res == seal.ResultSealed {
			if _, err := old.ExecContext(ctx, `INSERT INTO results (township_code, request_id, seq, document) VALUES ($1, $2, $3, $4)`,
				rec.Township, rec.RequestID, rec.Seq, []byte("%PDF-"+rec.RequestID)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := old.ExecContext(ctx, insert, 99, 0, "", "", "", "", "", "", "", "", "", "", nil, nil, "supervised", "", "",
		[]byte{0}, []byte{0}); err == nil {
		t.Fatal("a v12 ledger took a supervised record")
	}
	old.Close()

	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	st := db.Service()
	defer st.Close()
	got, err := st.Records(ctx, store.RecordFilter{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d records after the migration, want %d", len(got), len(want))
	}
	for i, r := range got {
		if w := want[i]; r.Seq != w.Seq || r.Result != w.Result || !bytes.Equal(r.ComputeHash(), w.Hash) {
			t.Errorf("record %d after the migration: seq %d result %s, hash holds %v", w.Seq, r.Seq, r.Result,
				bytes.Equal(r.ComputeHash(), w.Hash))
		}
	}
	for _, w := range want {
		if w.Result != seal.ResultSealed {
			continue
		}
		if r, doc, err := st.Result(ctx, w.Township, w.RequestID); err != nil || r.Seq != w.Seq || string(doc) != "%PDF-"+w.RequestID {
			t.Errorf("the result of %s after the migration: %+v, %q, %v", w.RequestID, r, doc, err)
		}
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `UPDATE ledger SET detail = 'x' WHERE seq = 1`); err == nil {
		t.Error("a ledger record was changed after the migration")
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM ledger WHERE seq = 2`); err == nil {
		t.Error("a ledger record was deleted after the migration")
	}

	sup := storetest.NewRecord(1, seal.ResultSupervised)
	sup.Rule, sup.OutputSM3, sup.Principal, sup.Detail = "", nil, "dept-1", "监管结果 kind=onsite"
	if r, err := st.Append(ctx, sup, nil); err != nil || r.Seq != 4 || r.Result != seal.ResultSupervised {
		t.Fatalf("a supervision record after the migration: %+v, %v", r, err)
	}
	life := storetest.NewRecord(7, seal.ResultLifecycle)
	life.Rule, life.OutputSM3, life.Detail = "", nil, "印章变更 action=suspend"
	if r, err := st.Append(ctx, life, nil); err != nil || r.Seq != 5 {
		t.Fatalf("a lifecycle record after the migration: %+v, %v", r, err)
	}
	if r, _, err := st.Result(ctx, sup.Township, sup.RequestID); err != nil || r.Seq != 1 || r.Result != seal.ResultSealed {
		t.Fatalf("the sealing's result beside a supervision record of its request id: %+v, %v", r, err)
	}
	if r, _, err := st.Result(ctx, life.Township, life.RequestID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a lifecycle record's request id found as a sealing: %+v, %v", r, err)
	}
	if _, err := st.Append(ctx, storetest.NewRecord(3, seal.ResultSealed), []byte("again")); err == nil {
		t.Fatal("a sealed request id sealed twice after the migration")
	}
	if _, err := raw.ExecContext(ctx, insert, 99, 0, "", "", "", "", "", "", "", "", "", "", nil, nil, "other", "", "",
		[]byte{0}, []byte{0}); err == nil {
		t.Fatal("the ledger took a record of an unknown kind")
	}
}
