// Package s3test runs a real S3 gateway for tests: versitygw
// (github.com/versity/versitygw, serving S3 from a local directory),
// started once per test binary, with a fresh bucket per test. A test
// package that uses it calls Main from its TestMain, which stops the
// gateway when the tests are done.
//
// The binary is $CAREBOOK_VERSITYGW or versitygw on PATH (go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0). Without it the test
// skips, or fails when CAREBOOK_REQUIRE_S3=1 (CI).
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/files"
	"github.com/google/uuid"
	"gocloud.dev/blob"
)

// Environment variables read here.
const (
	EnvBinary  = "CAREBOOK_VERSITYGW"
	EnvRequire = "CAREBOOK_REQUIRE_S3"
)

// The gateway's credentials, for tests only.
const (
	access = "carebooktest"
	secret = "carebook-test-secret-key"
)

var (
	once    sync.Once
	baseURL string
	root    string
	startE  error
	stop    func()
)

// Bucket returns a fresh bucket on the gateway, closed at t.Cleanup, and
// the directory its objects are stored in (to look at the bytes at rest).
func Bucket(t testing.TB) (*blob.Bucket, string) {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" {
		bin, _ = exec.LookPath("versitygw")
	}
	if bin == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal("the S3 tests need versitygw (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0) on PATH or in $" + EnvBinary + " (" + EnvRequire + "=1)")
		}
		t.Skip("no versitygw on PATH nor $" + EnvBinary + ": go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	}
	once.Do(func() { baseURL, root, startE = start(bin) })
	if startE != nil {
		t.Fatalf("start versitygw: %v", startE)
	}
	name := "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o700); err != nil { // the posix backend's bucket is a directory
		t.Fatalf("make the bucket: %v", err)
	}
	b, err := files.OpenBucket(context.Background(), strings.Replace(baseURL, "BUCKET", name, 1))
	if err != nil {
		t.Fatalf("OpenBucket: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, dir
}

// Main runs the tests and then stops the gateway, if they started it: call
// it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// start runs the gateway on a free port over a new directory and returns
// its bucket URL (with BUCKET for the bucket's name) and the directory.
func start(bin string) (string, string, error) {
	dir, err := os.MkdirTemp("", "carebook-versitygw-")
	if err != nil {
		return "", "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", err
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--port", addr, "--quiet", "posix", dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = os.RemoveAll(dir)
	}
	// Wait for the gateway to listen: dial until it answers, it exits, or
	// 30 s pass.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err
			return "", "", fmt.Errorf("versitygw exited (%v): %s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", "", fmt.Errorf("versitygw did not listen on %s in 30 s: %s", addr, out.String())
		}
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           access,
		"AWS_SECRET_ACCESS_KEY":       secret,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-aws-credentials"),
	} {
		if err := os.Setenv(k, v); err != nil {
			return "", "", err
		}
	}
	return "s3://BUCKET?endpoint=http://" + addr + "&region=us-east-1&use_path_style=true", dir, nil
}
