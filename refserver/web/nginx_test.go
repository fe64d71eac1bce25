package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The sample nginx configuration (deploy/nginx/carebook.conf) is checked
// with Debian's nginx -t. Without nginx the test skips, unless
// CAREBOOK_REQUIRE_NGINX=1 (CI), which makes it fail instead.

const envRequireNginx = "CAREBOOK_REQUIRE_NGINX"

// nginxPath is nginx on PATH, else Debian's /usr/sbin/nginx.
func nginxPath(t *testing.T) string {
	t.Helper()
	return lookTool(t, envRequireNginx, "nginx", "nginx", "nginx", "/usr/sbin/nginx")
}

// TestNginxConfig checks the sample configuration with nginx -t, in a
// prefix of the test's with a certificate made for it, and that it keeps
// its promises: several replicas, TLS, gzip, and a cache that never keeps
// what sets a cookie or is private.
func TestNginxConfig(t *testing.T) {
	conf, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx", "carebook.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"upstream carebook", "listen 443 ssl", "gzip on;", "proxy_cache carebook_public;",
		"proxy_no_cache $cookie_carebook_session $upstream_http_set_cookie $carebook_private;",
		"proxy_cache_bypass $cookie_carebook_session;", "~*(private|no-store|no-cache) 1;"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("the configuration lacks %q", want)
		}
	}
	if n := strings.Count(string(conf), "\t\tserver 127.0.0.1:"); n < 2 {
		t.Errorf("%d replicas in the upstream, want several", n)
	}
	// The location that caches is the only one of the public pages; the
	// default location does not cache.
	def := string(conf)[strings.Index(string(conf), "location / {"):]
	def = def[:strings.Index(def, "}")]
	if strings.Contains(def, "proxy_cache ") {
		t.Errorf("the default location caches:\n%s", def)
	}
	bin := nginxPath(t)
	dir := t.TempDir()
	for _, d := range []string{"tls", "logs", "run", "cache"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeTestCert(t, filepath.Join(dir, "tls", "carebook.crt"), filepath.Join(dir, "tls", "carebook.key"))
	path := filepath.Join(dir, "carebook.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t", "-p", dir+"/", "-c", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

// writeTestCert writes a self-signed certificate for carebook.example
// and its key, as PEM files.
func writeTestCert(t *testing.T, certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "carebook.example"},
		DNSNames: []string{"carebook.example"}, NotBefore: time.Unix(0, 0), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}
