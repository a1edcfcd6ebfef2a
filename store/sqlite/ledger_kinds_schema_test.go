package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"github.com/ronganxian/eseal/store/storetest"
)

// TestMigrationLedgerKinds: a database of migration 10 with sealings,
// refusals and their results is rebuilt by migration 11 with every row and
// hash as it was, its results still found, its append-only triggers still
// refusing changes, the sealed request ids still unique, and the new kinds
// accepted.
func TestMigrationLedgerKinds(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seal.db")
	old, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateList(ctx, old, migrationsBefore(t, serviceSchemaV6)); err != nil {
		t.Fatal(err)
	}
	var prev *seal.Record
	var want []*seal.Record
	for i, res := range []seal.Result{seal.ResultSealed, seal.ResultRefused, seal.ResultSealed, seal.ResultSealed} {
		rec := storetest.NewRecord(i+1, res)
		rec.Link(prev)
		prev = rec
		want = append(want, rec)
		if _, err := old.ExecContext(ctx, `INSERT INTO ledger (seq, time_us, request_id, township_code, seal_id, cert_serial,
			item_code, domain, case_no, principal, service_window, doc_kind, input_sm3, output_sm3, result, rule, detail, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.Seq, rec.Time.UnixMicro(), rec.RequestID, rec.Township, rec.SealID, rec.CertSerial, rec.Item, rec.Domain, rec.CaseNo,
			rec.Principal, string(rec.Window), rec.DocKind, rec.InputSM3, rec.OutputSM3, string(rec.Result), string(rec.Rule),
			rec.Detail, rec.PrevHash, rec.Hash); err != nil {
			t.Fatal(err)
		}
		if res == seal.ResultSealed {
			if _, err := old.ExecContext(ctx, `INSERT INTO results (township_code, request_id, seq, document) VALUES (?, ?, ?, ?)`,
				rec.Township, rec.RequestID, rec.Seq, []byte("%PDF-"+rec.RequestID)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A v10 ledger refuses the new kinds: the migration is what lets them in.
	if _, err := old.ExecContext(ctx, `INSERT INTO ledger (seq, time_us, request_id, township_code, seal_id, cert_serial,
		item_code, domain, case_no, principal, service_window, doc_kind, result, rule, detail, prev_hash, hash)
		VALUES (99, 0, '', '', '', '', '', '', '', '', '', '', 'supervised', '', '', x'00', x'00')`); err == nil {
		t.Fatal("a v10 ledger took a supervised record")
	}
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := db.Service()
	got, err := st.Records(ctx, store.RecordFilter{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d records after the migration, want %d", len(got), len(want))
	}
	for i, r := range got {
		w := want[i]
		if r.Seq != w.Seq || r.Result != w.Result || !bytes.Equal(r.Hash, w.Hash) || !bytes.Equal(r.ComputeHash(), w.Hash) {
			t.Errorf("record %d after the migration: seq %d result %s, hash holds %v", w.Seq, r.Seq, r.Result,
				bytes.Equal(r.ComputeHash(), w.Hash))
		}
	}
	for _, w := range want {
		if w.Result != seal.ResultSealed {
			continue
		}
		r, doc, err := st.Result(ctx, w.Township, w.RequestID)
		if err != nil || r.Seq != w.Seq || string(doc) != "%PDF-"+w.RequestID {
			t.Errorf("the result of %s after the migration: %+v, %q, %v", w.RequestID, r, doc, err)
		}
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE ledger SET detail = 'x' WHERE seq = 1`); err == nil {
		t.Error("a ledger record was changed after the migration")
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM ledger WHERE seq = 2`); err == nil {
		t.Error("a ledger record was deleted after the migration")
	}
	var fkProblems int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fkProblems); err != nil || fkProblems != 0 {
		t.Errorf("foreign key check after the migration: %d problems, %v", fkProblems, err)
	}
	var copies int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'ledger_v10_copy'`).Scan(&copies); err != nil || copies != 0 {
		t.Errorf("the migration's copy is left: %d, %v", copies, err)
	}
	for _, name := range []string{"ledger_sealed_request", "ledger_township", "ledger_domain", "ledger_seal_time", "ledger_case",
		"ledger_no_update", "ledger_no_delete"} {
		var n int
		if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = ? AND tbl_name = 'ledger'`, name).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s after the migration: %d, %v", name, n, err)
		}
	}

	// The new kinds are taken; a supervision record may reuse a sealed
	// request id, and a sealed request id still cannot be sealed twice.
	sup := storetest.NewRecord(1, seal.ResultSupervised)
	sup.Rule, sup.OutputSM3, sup.Principal, sup.Detail = "", nil, "dept-1", "监管结果 kind=onsite"
	if r, err := st.Append(ctx, sup, nil); err != nil || r.Seq != 5 || r.Result != seal.ResultSupervised {
		t.Fatalf("a supervision record after the migration: %+v, %v", r, err)
	}
	life := storetest.NewRecord(7, seal.ResultLifecycle)
	life.Rule, life.OutputSM3, life.Detail = "", nil, "印章变更 action=suspend"
	if r, err := st.Append(ctx, life, nil); err != nil || r.Seq != 6 {
		t.Fatalf("a lifecycle record after the migration: %+v, %v", r, err)
	}
	if r, doc, err := st.Result(ctx, sup.Township, sup.RequestID); err != nil || r.Seq != 1 || r.Result != seal.ResultSealed || doc == nil {
		t.Fatalf("the sealing's result beside a supervision record of its request id: %+v, %v", r, err)
	}
	if r, _, err := st.Result(ctx, life.Township, life.RequestID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a lifecycle record's request id found as a sealing: %+v, %v", r, err)
	}
	if _, err := st.Append(ctx, storetest.NewRecord(3, seal.ResultSealed), []byte("again")); err == nil {
		t.Fatal("a sealed request id sealed twice after the migration")
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO ledger (seq, time_us, request_id, township_code, seal_id, cert_serial,
		item_code, domain, case_no, principal, service_window, doc_kind, result, rule, detail, prev_hash, hash)
		VALUES (99, 0, '', '', '', '', '', '', '', '', '', '', 'other', '', '', x'00', x'00')`); err == nil {
		t.Fatal("the ledger took a record of an unknown kind")
	}
}
