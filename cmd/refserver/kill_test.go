package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The credentials of the fake providers the refserver processes talk to.
const (
	killTwilioSID   = "AC00000000000000000000000000000001"
	killTwilioToken = "f00dfacef00dfacef00dfacef00dface"
	killSendGridKey = "SG.kill-test"
)

// TestKillMidDispatch starts real refserver serve processes (the binary,
// built here) on PostgreSQL, their Twilio and SendGrid pointed at
// notify/fakeprovider's fakes in this process. With a few hundred messages
// due, the fakes let the first sends through and then hold every send on
// the wire; once all the dispatcher's workers are stuck there, the process
// is killed with SIGKILL: messages it sent are unrecorded, sends are in
// flight (the fakes accept them: the requests were whole), groups are
// marked sending ahead of the sends and most of its batch is claimed.
// Another process then finishes: every message is delivered exactly once,
// none lost, none twice.
func TestKillMidDispatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dsn := sqltest.PostgresDatabase(t)
	bin := buildRefserver(t)
	tw := fakeprovider.NewTwilio(killTwilioSID, killTwilioToken)
	t.Cleanup(tw.Close)
	sg := fakeprovider.NewSendGrid(killSendGridKey)
	t.Cleanup(sg.Close)
	secret := filepath.Join(t.TempDir(), "master-key.json") // made by the first start

	// Seed the demo clinic and book visits in this process, with its own
	// dispatcher an hour away.
	start := time.Now()
	practice, due := bookVisits(t, dsn, secret, 160)
	t.Logf("%d messages due after %v", due, time.Since(start))
	if due < 200 {
		t.Fatalf("%d messages due, want a few hundred", due)
	}

	const concurrency = 32 // the dispatcher's default
	const passed = 20      // sends let through on each fake before the hold
	tw.Hold(passed)
	sg.Hold(passed)
	env := []string{
		"CAREBOOK_DSN=" + dsn, "CAREBOOK_MASTER_KEY_FILE=" + secret, "CAREBOOK_ADDR=127.0.0.1:0",
		"CAREBOOK_PUBLIC_URL=http://127.0.0.1:9", // status callbacks carry the outbox ID; none is made
		"TWILIO_ACCOUNT_SID=" + killTwilioSID, "TWILIO_AUTH_TOKEN=" + killTwilioToken, "TWILIO_FROM=+12025550100",
		"TWILIO_BASE_URL=" + tw.URL(), "SENDGRID_API_KEY=" + killSendGridKey, "SENDGRID_FROM=desk@riverside.example",
		"SENDGRID_BASE_URL=" + sg.URL(), "CAREBOOK_DISPATCH_EVERY=50ms", "CAREBOOK_DISPATCH_LEASE=4s",
		// The fake's Email Activity shows a send at once: no lag to wait
		// out (TestDispatcherWaitsForLaggingRecords covers the wait).
		"SENDGRID_ACTIVITY_LAG=1s",
	}
	a := startServe(t, bin, "a", env)
	waitFor(t, 30*time.Second, "every worker of the first process held at the providers", func() bool {
		return tw.Held()+sg.Held() == concurrency
	})
	if err := a.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	a.Wait()
	// The fakes accept the held sends as their connections drop.
	waitFor(t, 10*time.Second, "the held sends accepted", func() bool { return tw.Held()+sg.Held() == 0 })
	accepted := tw.Count() + sg.Count()
	// One fake or both let passed through, depending on the channels of
	// the first sends.
	if accepted < passed+concurrency || accepted > 2*passed+concurrency {
		t.Fatalf("the providers accepted %d messages before the kill, want %d to %d", accepted, passed+concurrency, 2*passed+concurrency)
	}
	master, err := keys.OpenFile(secret)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(context.Background(), dsn, sqlstore.WithMasterKey(master))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	before := statusCounts(t, st.Notify, practice)
	t.Logf("after the kill: %v; %d accepted by the providers", before, accepted)
	// In doubt: what the providers have (unrecorded sends, and those in
	// flight) and what was marked sending ahead of the sends; claimed: the
	// rest of the batch.
	if before[notify.StatusSending] <= accepted || before[notify.StatusClaimed] == 0 || before[notify.StatusSent] != 0 {
		t.Fatalf("not killed mid-batch: %v", before)
	}

	tw.Release()
	sg.Release()
	startServe(t, bin, "b", env)
	var after map[notify.Status]int
	waitFor(t, 40*time.Second, "every message settled", func() bool {
		after = statusCounts(t, st.Notify, practice)
		return after[notify.StatusPending]+after[notify.StatusClaimed]+after[notify.StatusSending] == 0
	})
	t.Logf("after the second process: %v (%v in all)", after, time.Since(start))
	if after[notify.StatusSent] != due || after[notify.StatusDead] != 0 {
		t.Errorf("statuses %v, want all %d sent", after, due)
	}
	// Count at the providers: every outbox message once.
	got := map[string]int{}
	for _, m := range tw.Messages() {
		got[m.MessageID]++
	}
	for _, m := range sg.Mails() {
		got[m.OutboxID()]++
	}
	msgs := outboxMessages(t, st.Notify, practice)
	lost, twice := 0, 0
	for _, m := range msgs {
		switch got[m.ID.String()] {
		case 0:
			lost++
		case 1:
		default:
			twice++
		}
		delete(got, m.ID.String())
	}
	if lost != 0 || twice != 0 || len(got) != 0 || tw.Duplicates()+sg.Duplicates() != 0 {
		t.Errorf("of %d messages, %d lost and %d sent twice; %d unknown to the outbox, %d duplicates at the providers",
			len(msgs), lost, twice, len(got), tw.Duplicates()+sg.Duplicates())
	}
	if n := tw.Count() + sg.Count(); n != due {
		t.Errorf("the providers accepted %d messages, want %d", n, due)
	}
}

// buildRefserver builds the refserver binary (with the race detector when
// the test has it, so that the build reuses the test's compiled packages).
func buildRefserver(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "refserver")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goCmd = filepath.Join(root, "bin", "go")
		} else {
			t.Fatalf("no go command to build refserver: %v", err)
		}
	}
	cmd := exec.Command(goCmd, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe starts `refserver serve` with env (over the test's own
// environment, without its CAREBOOK_, TWILIO_ and SENDGRID_ variables),
// waits until it listens, and kills it at the end of the test. Its log is
// shown when the test fails.
func startServe(t *testing.T, bin, name string, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-audit-archive", "")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAREBOOK_") && !strings.HasPrefix(kv, "TWILIO_") && !strings.HasPrefix(kv, "SENDGRID_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var logs bytes.Buffer
	cmd.Stderr = &syncWriter{w: &logs}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			w := cmd.Stderr.(*syncWriter)
			w.mu.Lock()
			t.Logf("log of process %s:\n%s", name, logs.String())
			w.mu.Unlock()
		}
	})
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "carebook listening on ") {
				listening <- true
			}
		}
		io.Copy(io.Discard, stdout)
		close(listening)
	}()
	select {
	case ok := <-listening:
		if !ok {
			t.Fatalf("process %s ended before listening", name)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("process %s did not listen within 30s", name)
	}
	return cmd
}

// syncWriter is a writer safe for the concurrent use of a process's
// output copier and the test reading it.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// waitFor polls cond until it holds, failing t after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// bookVisits seeds the demo clinic on dsn and books n visits, each for a
// new patient with a phone and an email, through the engine of a serve
// whose dispatcher is an hour away, with the master key file at secret. It returns the practice and how many
// SMS and email messages are due.
func bookVisits(t *testing.T, dsn, secret string, n int) (tenant.PracticeID, int) {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(map[string]string{"CAREBOOK_MASTER_KEY_FILE": secret})
	if err := m.ParseFlags([]string{"serve", "-addr", "127.0.0.1:0", "-dsn", dsn, "-demo", "-dispatch-every", "1h"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: "test-desk"})
	svc, pid := m.engine.Scheduling, m.demoPractice
	provs, err := svc.Providers(ctx, pid, scheduling.ProviderFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	vts, err := svc.VisitTypes(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	from := m.engine.Clock.Now().AddDate(0, 0, 3)
	booked := 0
	for _, prov := range provs {
		for _, vt := range vts {
			slots, err := svc.OpenSlots(ctx, pid, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{prov.ID}, VisitTypeID: vt.ID,
				From: from, To: from.AddDate(0, 0, 28)})
			if err != nil {
				continue
			}
			for _, s := range slots {
				if booked == n {
					break
				}
				pat, err := svc.CreatePatient(ctx, pid, scheduling.PatientInput{GivenName: "Pat", FamilyName: fmt.Sprintf("Number%03d", booked),
					BirthDate: "1980-01-01", Phone: fmt.Sprintf("+1202555%04d", 1000+booked), Email: fmt.Sprintf("pat%03d@example.com", booked),
					Language: "en"})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := svc.Book(ctx, pid, scheduling.BookRequest{PatientID: pat.ID, ProviderID: prov.ID, VisitTypeID: vt.ID,
					Start: s.Start}); err == nil {
					booked++
				}
			}
		}
	}
	if booked < n {
		t.Fatalf("booked %d visits, want %d", booked, n)
	}
	due := 0
	for _, msg := range outboxMessages(t, m.engine.Notify.Store(), pid) {
		if msg.Status == notify.StatusPending && !msg.DueAt.After(m.engine.Clock.Now()) {
			due++
		}
	}
	return pid, due
}

// outboxMessages lists the practice's SMS and email messages that are not
// dropped, scheduled ones (due later) excluded.
func outboxMessages(t *testing.T, st notify.Store, practice tenant.PracticeID) []*notify.Message {
	t.Helper()
	var out []*notify.Message
	var after *uuid.UUID
	for {
		page, err := st.Messages(context.Background(), practice, notify.MessageFilter{After: after, Limit: notify.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if (m.Channel == notify.SMS || m.Channel == notify.Email) && m.Status != notify.StatusDropped &&
				!(m.Status == notify.StatusPending && m.DueAt.After(time.Now())) {
				out = append(out, m)
			}
		}
		if len(page) < notify.MaxLimit {
			return out
		}
		after = &page[len(page)-1].ID
	}
}

// statusCounts counts outboxMessages by status.
func statusCounts(t *testing.T, st notify.Store, practice tenant.PracticeID) map[notify.Status]int {
	t.Helper()
	out := map[notify.Status]int{}
	for _, m := range outboxMessages(t, st, practice) {
		out[m.Status]++
	}
	return out
}
