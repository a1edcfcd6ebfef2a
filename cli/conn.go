package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ronganxian/eseal/proto/seal/v1/sealapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// conn holds the connection settings shared by every command that calls the
// service.
type conn struct {
	server    string // --server or SEAL_SERVER
	tokenFile string // --token-file or SEAL_TOKEN_FILE
	caFile    string // --tls-ca or SEAL_TLS_CA
	token     string
	cc        *grpc.ClientConn
	retry     retryPolicy // --retries, --retry-wait, --retry-max-wait
}

func envOr(v, name, def string) string {
	if v != "" {
		return v
	}
	if e := os.Getenv(name); e != "" {
		return e
	}
	return def
}

// maxMessage bounds messages to and from the service; larger documents go
// through the streaming call.
const maxMessage = 64 << 20

// dial connects once. Plain text is used only to loopback; anything else
// needs TLS, with the system roots or --tls-ca.
func (c *conn) dial() (*grpc.ClientConn, error) {
	if c.cc != nil {
		return c.cc, nil
	}
	c.server = envOr(c.server, "SEAL_SERVER", "127.0.0.1:8443")
	c.tokenFile = envOr(c.tokenFile, "SEAL_TOKEN_FILE", "")
	c.caFile = envOr(c.caFile, "SEAL_TLS_CA", "")
	if c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("credential: %w", err)
		}
		c.token = strings.TrimSpace(string(b))
	}
	var creds credentials.TransportCredentials
	switch {
	case c.caFile != "":
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return nil, fmt.Errorf("TLS trust: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS trust %s holds no certificate", c.caFile)
		}
		creds = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	case sealapi.IsLoopback(c.server):
		creds = insecure.NewCredentials()
	default:
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	sealapi.UseDocumentBuffers()
	cc, err := grpc.NewClient(c.server, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)))
	if err != nil {
		return nil, err
	}
	c.cc = cc
	return cc, nil
}

// ctx returns a context that carries the credential.
func (c *conn) ctx(parent context.Context) context.Context {
	if c.token == "" {
		return parent
	}
	return metadata.AppendToOutgoingContext(parent, "authorization", "Bearer "+c.token)
}

func (c *conn) close() {
	if c.cc != nil {
		c.cc.Close()
	}
}

var errNoCredential = errors.New("no credential: pass --token-file or set SEAL_TOKEN_FILE")
