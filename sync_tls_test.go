package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHubTLS serves the hub over HTTPS with --tls-cert/--tls-key and syncs
// a spoke that trusts the hub's private CA through --hub-ca; a spoke
// without the CA refuses the hub.
func TestHubTLS(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile := writeTestPKI(t, dir)
	addr := freeLoopbackAddr(t)
	opts := daemonOptions{Mode: "server", HTTPAddr: addr, TLSCert: certFile, TLSKey: keyFile}
	path := filepath.Join(dir, "hub.db")
	s := openSyncStore(t, path)
	var logs syncBuffer
	d := &daemon{opts: opts, paths: Paths{DB: path}, store: s, log: log.New(&logs, "", 0), started: time.Now()}
	h := newHub(d, subjectTokens{})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- h.serve(ctx, func(string) { close(ready) }) }()
	defer func() { cancel(); <-done }()
	<-ready
	url := "https://" + addr
	a := &testSpoke{t: t, s: openSyncStore(t, filepath.Join(dir, "a.db")), hubURL: url, token: "tok:me"}
	c, err := newHubClient(url, caFile, staticToken("tok:me"))
	if err != nil {
		t.Fatal(err)
	}
	a.c = c
	a.create("task", "over TLS")
	if rep := a.sync(); rep.Accepted != 1 {
		t.Fatalf("TLS push: %+v", rep)
	}
	noCA, _ := newHubClient(url, "", staticToken("tok:me"))
	if _, err := exchange(context.Background(), a.s, noCA); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a spoke without the CA should refuse the hub's certificate: %v", err)
	}
	if strings.Contains(logs.String(), "WARNING") {
		t.Fatalf("TLS on loopback should not warn: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "https://") {
		t.Fatalf("hub should log that it serves https: %s", logs.String())
	}
}

// TestHubWarnsWithoutTLS checks the warning for plain HTTP off loopback.
func TestHubWarnsWithoutTLS(t *testing.T) {
	var logs syncBuffer
	path := filepath.Join(t.TempDir(), "hub.db")
	d := &daemon{opts: daemonOptions{Mode: "server", HTTPAddr: "0.0.0.0:0"}, paths: Paths{DB: path},
		store: openSyncStore(t, path), log: log.New(&logs, "", 0), started: time.Now()}
	h := newHub(d, subjectTokens{})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- h.serve(ctx, func(string) { close(ready) }) }()
	<-ready
	cancel()
	<-done
	if !strings.Contains(logs.String(), "WARNING") || !strings.Contains(logs.String(), "without TLS") {
		t.Fatalf("no warning for plain HTTP on 0.0.0.0: %s", logs.String())
	}
}

// writeTestPKI writes a private CA and a server certificate for 127.0.0.1
// signed by it, and returns the CA, certificate and key file paths.
func writeTestPKI(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "heph test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return caFile, certFile, keyFile
}

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(10, 5)
	now := time.Unix(1000, 0)
	for i := 0; i < 5; i++ {
		if !l.allow("alice", now) {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	if l.allow("alice", now) {
		t.Fatal("request over the burst allowed")
	}
	if !l.allow("bob", now) {
		t.Fatal("one subject's limit throttled another")
	}
	if !l.allow("alice", now.Add(150*time.Millisecond)) {
		t.Fatal("tokens did not refill at the rate")
	}
}
