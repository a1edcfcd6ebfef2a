package cli

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal/cms"
)

// forged is text that, printed raw, clears the screen, prints a green
// "有效 VALID", and starts a line of its own.
const forged = "\x1b[2J\x1b[H\x1b[32m有效 VALID\x1b[0m\n  \u202e1000-6202"

// TestVerifyEscapesTheDocument: the texts of a PDF signed by anyone reach
// `sealctl verify`'s human output only escaped; its JSON stays exact.
func TestVerifyEscapesTheDocument(t *testing.T) {
	chain := testpki.MustChain(testpki.Options{Length: 2, LeafName: forged})
	signer, err := cms.NewSigner(chain.LeafKey(), chain.Certs, cms.ProfileDefault)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../testdata/pdfs/one.pdf")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := pdf.Seal(context.Background(), &out, bytes.NewReader(doc), int64(len(doc)), pdf.Request{Signer: signer,
		SealName: forged, Reason: forged, Location: forged, ItemCode: forged, ItemName: forged, CaseNumber: forged}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "forged\x1b[2J.pdf")
	root := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(file, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain.Root().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"zh", "en"} {
		_, stdout, _ := runSealctl(t, "verify", "--lang", lang, "--trust", root, file)
		if strings.ContainsAny(stdout, "\x1b\u202e") {
			t.Errorf("%s: the human output carries the document's control characters:\n%q", lang, stdout)
		}
		if !strings.Contains(stdout, `\x1b[32m有效 VALID\x1b[0m\x0a`) {
			t.Errorf("%s: the forged text is not shown escaped:\n%s", lang, stdout)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "\u202e") || strings.HasPrefix(strings.TrimSpace(line), "1000-6202") {
				t.Errorf("%s: the document started a line of its own: %q", lang, line)
			}
		}
	}
	_, stdout, _ := runSealctl(t, "verify", "--json", "--trust", root, file)
	if !strings.Contains(stdout, `\u001b[32m有效 VALID\u001b[0m\n`) {
		t.Errorf("the JSON report does not hold the text exactly:\n%.600s", stdout)
	}
}

// TestLedgerRowsAreEscaped: a record's texts reach `ledger list` and
// `ledger watch` escaped, whatever a server or an old database holds.
func TestLedgerRowsAreEscaped(t *testing.T) {
	a := &app{}
	row := a.recordRow(&sealv1.LedgerRecord{Seq: 1, TownshipCode: forged, ItemCode: forged, CaseNo: forged,
		Principal: forged, Result: "refused", Rule: forged, Hash: make([]byte, 32)})
	for _, cell := range row {
		if strings.ContainsAny(cell, "\x1b\n\u202e") {
			t.Errorf("a row cell carries a control character: %q", cell)
		}
	}
	var out bytes.Buffer
	a.stdout = &out
	a.table(recordHeader, [][]string{{"1", forged}})
	if strings.ContainsAny(out.String(), "\x1b\u202e") || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("the table prints the cell raw:\n%q", out.String())
	}
}
