package cli

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/ronganxian/eseal/events"
	"github.com/ronganxian/eseal/internal/testpki"
	"github.com/ronganxian/eseal/seal"
)

// syncWriter hands ServeEvents' lines to the test.
type syncWriter struct{ ch chan string }

func (w syncWriter) Write(p []byte) (int, error) { w.ch <- string(p); return len(p), nil }

// TestEventsServeAndVerify: events posted to `sealctl events serve` land
// in its file, which `sealctl events verify` accepts with the county root;
// a changed line, or a missing one, it refuses with status 2. The receiver
// checks each event on arrival and refuses a forged one without storing it.
func TestEventsServeAndVerify(t *testing.T) {
	dir := t.TempDir()
	ch := testpki.MustChain(testpki.Options{})
	key, cert, err := ch.IssueLedgerLeaf(seal.LedgerKeyPolicyOID)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root.pem")
	os.WriteFile(root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ch.Root().Raw}), 0o644)
	out := filepath.Join(dir, "events.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	w := syncWriter{make(chan string, 16)}
	done := make(chan error, 1)
	roots, err := loadRoots(root)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- ServeEvents(ctx, "127.0.0.1:0", out, roots, w) }()
	var url string
	select {
	case line := <-w.ch:
		url = strings.Fields(line)[3]
	case err := <-done:
		t.Fatalf("ServeEvents: %v", err)
	}
	var prev *seal.Record
	record := func(i int) *seal.Record {
		in := sm3.Sum([]byte{byte(i)})
		r := &seal.Record{Time: time.Now(), RequestID: "r", Township: "450224101", Item: "I", Domain: "民政",
			CaseNo: "C", InputSM3: in[:], OutputSM3: in[:], Result: seal.ResultSealed}
		r.Link(prev)
		prev = r
		return r
	}
	for i := range 2 {
		r := record(i)
		e := events.New(r, "/eseal/test", "platform", r.Seq-1)
		if err := e.Sign(key, cert); err != nil {
			t.Fatal(err)
		}
		body, _ := e.Marshal()
		var indented bytes.Buffer
		indented.WriteString("\n  ")
		indented.Write(body) // a sender's layout is not the file's
		resp, err := http.Post(url, events.ContentType, &indented)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("posting event %d: %v %v", r.Seq, resp, err)
		}
		resp.Body.Close()
		if got := <-w.ch; !strings.Contains(got, "signature verified") {
			t.Errorf("the receiver said %q of event %d", got, r.Seq)
		}
	}
	// Two more in one batched-mode request, signed in one tree, as a
	// subscription with a batch size sends them.
	var batch []*events.Event
	for i := 2; i < 4; i++ {
		r := record(i)
		batch = append(batch, events.New(r, "/eseal/test", "platform", r.Seq-1))
	}
	if err := events.SignTree(batch, key, cert, time.Now()); err != nil {
		t.Fatal(err)
	}
	var body []byte
	for _, e := range batch {
		b, _ := e.Marshal()
		body = events.AppendBatch(body, b)
	}
	resp, err := http.Post(url, events.BatchContentType, bytes.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("posting a batch: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, e := range batch {
		if got := <-w.ch; !strings.Contains(got, "event "+e.ID+" ") || !strings.Contains(got, "signature verified") {
			t.Errorf("the receiver said %q of event %s", got, e.ID)
		}
	}
	forged := events.New(prev, "/eseal/test", "platform", prev.Seq)
	if err := forged.Sign(key, cert); err != nil {
		t.Fatal(err)
	}
	forged.ID = "5" // an id its record and signature do not have
	body, _ = forged.Marshal()
	if resp, err := http.Post(url, events.ContentType, bytes.NewReader(body)); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a forged event: %v %v, want 400", resp, err)
	}
	if resp, err := http.Post(url, "application/json", strings.NewReader("{}")); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("a binary-mode or plain JSON post: %v %v", resp, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(out)
	lines := strings.SplitAfter(strings.TrimSpace(string(good)), "\n")
	if len(lines) != 4 {
		t.Fatalf("the receiver's file has %d lines, want 4:\n%s", len(lines), good)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	tests := []struct {
		name string
		file string
		want int
	}{
		{"as received", out, 0},
		{"one changed", write("changed.jsonl", strings.Replace(string(good), `"民政"`, `"市场监管"`, 1)), 2},
		{"one missing", write("missing.jsonl", lines[0]+lines[1]+lines[3]), 2},
		{"received twice", write("twice.jsonl", string(good)+string(good)), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main([]string{"events", "verify", tt.file, "--trust", root}, &stdout, &stderr); code != tt.want {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.want, stdout.String(), stderr.String())
			}
		})
	}
}
