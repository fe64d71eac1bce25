package stripetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables read by Mock.
const (
	EnvMockBinary  = "CAREBOOK_STRIPE_MOCK"
	EnvRequireMock = "CAREBOOK_REQUIRE_STRIPE_MOCK"
)

// MockInstall is how to install the stripe-mock Mock runs.
const MockInstall = "go install github.com/stripe/stripe-mock@v0.203.0"

var (
	mockOnce sync.Once
	mockURL  string
	mockErr  error
	mockStop func()
)

// Mock returns the base URL of a stripe-mock, started once per test binary
// on free ports (stop it with MockMain). The binary is $CAREBOOK_STRIPE_MOCK,
// stripe-mock on PATH, or $CAREBOOK_TOOLS (default ~/.cache/carebook-tools)
// /stripe-mock. Without one the test skips, or fails when
// CAREBOOK_REQUIRE_STRIPE_MOCK=1 (CI).
//
// stripe-mock validates each request against Stripe's OpenAPI document and
// answers with fixtures: it keeps no state, so a test of flows needs Fake.
func Mock(t testing.TB) string {
	t.Helper()
	bin := mockBinary()
	if bin == "" {
		if os.Getenv(EnvRequireMock) == "1" {
			t.Fatal("the Stripe request tests need stripe-mock (" + MockInstall + ") on PATH or in $" + EnvMockBinary + " (" + EnvRequireMock + "=1)")
		}
		t.Skip("no stripe-mock on PATH nor in $" + EnvMockBinary + ": " + MockInstall)
	}
	mockOnce.Do(func() { mockURL, mockErr = startMock(bin) })
	if mockErr != nil {
		t.Fatalf("start stripe-mock: %v", mockErr)
	}
	return mockURL
}

// MockMain runs the tests and then stops stripe-mock, if they started it:
// call it from TestMain.
func MockMain(m *testing.M) {
	code := m.Run()
	if mockStop != nil {
		mockStop()
	}
	os.Exit(code)
}

func mockBinary() string {
	if bin := os.Getenv(EnvMockBinary); bin != "" {
		return bin
	}
	if bin, err := exec.LookPath("stripe-mock"); err == nil {
		return bin
	}
	tools := os.Getenv("CAREBOOK_TOOLS")
	if tools == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		tools = filepath.Join(home, ".cache", "carebook-tools")
	}
	bin := filepath.Join(tools, "stripe-mock")
	if st, err := os.Stat(bin); err == nil && !st.IsDir() {
		return bin
	}
	return ""
}

// startMock runs stripe-mock with both its listeners on ports the system
// picks, and reads the HTTP one's address from what it prints.
func startMock(bin string) (string, error) {
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	mockStop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	found := make(chan string, 1)
	var printed strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			printed.WriteString(line + "\n")
			mu.Unlock()
			if addr, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok {
				found <- "http://" + strings.TrimSpace(addr)
				break
			}
		}
		_, _ = io.Copy(io.Discard, out) // keep the pipe drained
	}()
	select {
	case u := <-found:
		return u, nil
	case <-exited:
		mu.Lock()
		defer mu.Unlock()
		return "", errors.New("stripe-mock exited: " + printed.String())
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		return "", fmt.Errorf("stripe-mock did not listen in 30 s: %s", printed.String())
	}
}
