package service_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/service"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// A window application seals an approval decision through the gRPC client,
// as the 长安镇 approval-window clerk. The service here is the demo's, on
// loopback in a temporary directory.
func Example_sealThroughTheClient() {
	dir, err := os.MkdirTemp("", "eseal-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "sealsvc.yaml")
	if err := os.WriteFile(conf, []byte("data_dir: .\ngrpc_listen: 127.0.0.1:0\nhttp_listen: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	c, err := service.LoadConfig(conf)
	if err != nil {
		log.Fatal(err)
	}
	if err := service.EnsureKEK(c.KEKFile); err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	svc, err := service.Open(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	if err := svc.PrepareDemo(ctx); err != nil {
		log.Fatal(err)
	}
	srv, err := svc.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() { stop(); <-served }()

	// The client side: a connection, the clerk's bearer token, a request.
	token, err := os.ReadFile(filepath.Join(dir, "credentials", "450224100-approval.token"))
	if err != nil {
		log.Fatal(err)
	}
	doc, err := os.ReadFile("../testdata/pdfs/decision.pdf")
	if err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	call := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := sealv1.NewSealingServiceClient(conn).Seal(call, &sealv1.SealRequest{
		RequestId: "example-1",
		ItemCode:  "450224-XK-0002", // 农村村民宅基地审批
		CaseNo:    "长安-2026-0001",
		DocKind:   "准予行政许可决定书",
		Document:  doc,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Record.Result, resp.Record.TownshipCode, resp.Record.Domain, len(resp.Document) > len(doc))
	// Output: sealed 450224100 农业农村 true
}
