package outbox_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ronganxian/eseal/outbox"
)

// TestMTLSReceiver: a receiver that demands a client certificate gets the
// events from a subscription holding one (its key sealed with the KEK),
// checks the service's chain against the subscription's server CA, and
// refuses a subscription without the certificate.
func TestMTLSReceiver(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "省平台接收方客户端CA (测试)"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	ca, _ := x509.ParseCertificate(caDER)
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	clientDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "融安县电子印章服务"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, clientKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(clientKey)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: clientDER})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})

	r := &receiver{}
	srv := httptest.NewUnstartedServer(r)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	serverCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	e := newEnv(t, fastConfig())
	create(t, e, outbox.NewSubscription{ID: "with-cert", Endpoint: srv.URL + "/events", Auth: outbox.AuthMTLS,
		Secret: keyPEM, ClientCert: certPEM, ServerCA: serverCA})
	create(t, e, outbox.NewSubscription{ID: "without-cert", Endpoint: srv.URL + "/events", ServerCA: serverCA})
	e.run(t)
	e.seal(t, 4)
	waitFor(t, 10*time.Second, "the events over mTLS", func() bool { return r.count() >= 4 })
	rep := r.verify(t, e.keys, 4)
	if rep.Subscriptions["with-cert"] != 4 || rep.Subscriptions["without-cert"] != 0 {
		t.Fatalf("by subscription: %v, want 4 with the certificate and none without", rep.Subscriptions)
	}
	waitFor(t, 10*time.Second, "the failures of the subscription without a certificate", func() bool {
		s, err := e.box.Get(t.Context(), "without-cert")
		return err == nil && s.Failures > 0 && s.Cursor == 0
	})
}
