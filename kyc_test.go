package carebook_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/nppes"
	"github.com/carebook/carebook/nppes/nppestest"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// The NPIs of the fake registry (each passes its check digit).
const (
	harborNPI   = "1245319599" // NPI-2, active: Harbor Pediatrics
	inactiveNPI = "1245319607" // NPI-2, deactivated
	personNPI   = "1234567893" // NPI-1, active: the clinic's Dr. Hopper
	unknownNPI  = "1345678902" // not in the registry
	retiredNPI  = "1987654328" // NPI-1, deactivated
)

// fakeRegistry serves the NPIs above.
func fakeRegistry(t *testing.T) (*nppestest.Server, *nppes.Client) {
	t.Helper()
	reg := nppestest.New()
	t.Cleanup(reg.Close)
	reg.Add(nppestest.Record{NPI: harborNPI, Type: "NPI-2", Status: "A", Organization: "HARBOR PEDIATRICS"})
	reg.Add(nppestest.Record{NPI: inactiveNPI, Type: "NPI-2", Status: "D", Organization: "OLD HARBOR"})
	reg.Add(nppestest.Record{NPI: personNPI, Type: "NPI-1", Status: "A", First: "GRACE", Last: "HOPPER"})
	reg.Add(nppestest.Record{NPI: retiredNPI, Type: "NPI-1", Status: "D", First: "ALAN", Last: "TURING"})
	client, err := nppes.New(nppes.Config{BaseURL: reg.URL(), Timeout: 2 * time.Second})
	require.NoError(t, err)
	return reg, client
}

// kycClinic is a clinic whose engine asks the fake registry, with the
// caller of its practice's administrator.
func kycClinic(t *testing.T, st *sqlstore.Store) (*clinic, *nppestest.Server, context.Context) {
	t.Helper()
	reg, client := fakeRegistry(t)
	c := newClinic(t, st)
	c.e = carebook.NewWithStore(st, carebook.WithClock(c.clk), carebook.WithNPIRegistry(client))
	p, err := c.e.Tenants.Practice(c.staff, c.practice)
	require.NoError(t, err)
	return c, reg, callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
}

// TestVerifyPractice: each bad organisation NPI is refused naming "npi"
// with nothing recorded; a registry down is the retryable
// precondition, not a bug; the front desk may not verify; the practice's
// administrator does, with the registry's name and an entry; a server with
// no registry says so.
func TestVerifyPractice(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, reg, owner := kycClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))

		for _, tc := range []struct{ name, npi, kind, msg string }{
			{"not an NPI", "1245319598", "invalid", "not a valid NPI"},
			{"letters", "12453195x9", "invalid", "not a valid NPI"},
			{"not found", unknownNPI, "invalid", "not found"},
			{"an individual's", personNPI, "invalid", "is an individual NPI"},
			{"inactive", inactiveNPI, "invalid", "inactive"},
		} {
			_, err := c.e.VerifyPractice(owner, c.practice, tc.npi)
			require.Equal(t, tc.kind, errs.KindOf(err).String(), "%s: %v", tc.name, err)
			require.Equal(t, "npi", errs.FieldOf(err), tc.name)
			require.Contains(t, err.Error(), tc.msg, tc.name)
		}
		reg.Fail(http.StatusBadGateway)
		_, err = c.e.VerifyPractice(owner, c.practice, harborNPI)
		require.True(t, errs.Is(err, errs.KindPreconditionFailed), "%v", err)
		require.Equal(t, "npi", errs.FieldOf(err))
		require.Contains(t, err.Error(), "try again later")
		reg.Fail(0)
		none, err := c.e.PracticeVerification(owner, c.practice)
		require.NoError(t, err)
		require.Nil(t, none, "nothing was recorded")
		require.Len(t, entries(t, c, "practice.verify"), 6, "each refusal is a failed attempt")

		_, err = c.e.VerifyPractice(desk, c.practice, harborNPI)
		require.True(t, errs.Is(err, errs.KindForbidden), "%v", err)

		v, err := c.e.VerifyPractice(owner, c.practice, " "+harborNPI+" ")
		require.NoError(t, err)
		require.Equal(t, harborNPI, v.NPI)
		require.Equal(t, "HARBOR PEDIATRICS", v.RegistryName)
		require.Equal(t, c.clk.Now().UTC(), v.VerifiedAt)
		got, err := c.e.PracticeVerification(desk, c.practice)
		require.NoError(t, err)
		require.Equal(t, v, got)
		allowed := 0
		for _, en := range entries(t, c, "practice.verify") {
			if en.Outcome == "allowed" {
				allowed++
			}
		}
		require.Equal(t, 1, allowed)

		bare := carebook.NewWithStore(st, carebook.WithClock(c.clk))
		_, err = bare.VerifyPractice(owner, c.practice, harborNPI)
		require.True(t, errs.Is(err, errs.KindPreconditionFailed), "%v", err)
		require.Contains(t, err.Error(), "no NPI registry")
	})
}

// TestVerifyProvider: the clinic's provider's NPI-1 is active; an NPI-2,
// a deactivated NPI-1 or an unknown one is refused naming "npi".
func TestVerifyProvider(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, _, owner := kycClinic(t, st)
		rec, err := c.e.VerifyProvider(owner, c.practice, c.provider)
		require.NoError(t, err)
		require.Equal(t, "GRACE HOPPER", rec.Name)
		require.Len(t, entries(t, c, "provider.verify"), 1)

		for _, tc := range []struct{ npi, msg string }{
			{harborNPI, "is an organisation NPI"},
			{retiredNPI, "inactive"},
			{unknownNPI, "not found"},
		} {
			prov, err := c.e.Scheduling.CreateProvider(c.staff, c.practice, scheduling.NewProvider{NPI: tc.npi, GivenName: "A", FamilyName: "B"})
			require.NoError(t, err)
			_, err = c.e.VerifyProvider(owner, c.practice, prov.ID)
			require.True(t, errs.Is(err, errs.KindInvalid), "%s: %v", tc.npi, err)
			require.Equal(t, "npi", errs.FieldOf(err))
			require.Contains(t, err.Error(), tc.msg)
		}
	})
}

// TestOnlinePaymentsNeedVerification: before the practice is verified an
// online authorization is refused (nothing sent to Stripe) and a no-show
// fee on a card on file stays owed at the desk, while the desk takes
// money; once verified, the authorization goes through.
func TestOnlinePaymentsNeedVerification(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		clk := clock.NewFixed(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
		fake := stripetest.NewFake(clk)
		t.Cleanup(fake.Close)
		sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_kyc", WebhookSecret: "whsec_kyc", BackendURL: fake.URL(), Clock: clk, Retries: -1})
		require.NoError(t, err)
		_, client := fakeRegistry(t)
		c := newPayClinic(t, st)
		c.e = carebook.NewWithStore(st, carebook.WithClock(c.clk), carebook.WithNPIRegistry(client), carebook.WithPaymentAdapter("stripe", sa))
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		owner := callerWith(t, c.clinic, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		by := actor.Actor{Kind: actor.System, ID: "test"}

		online, err := c.e.Billing.Open(c.staff, billing.Open{Practice: c.practice, Provider: "stripe", Amount: usd(8000),
			Method: billing.Method{Kind: billing.MethodCardOnline, Token: stripetest.CardVisa}, Purpose: billing.PurposeDeposit,
			Patient: &c.patient.ID, Appointment: &c.appt.ID, By: by})
		require.NoError(t, err)
		_, _, err = c.e.Billing.Do(c.staff, billing.Step{Practice: c.practice, Payment: online.ID, Op: billing.OpAuthorize, By: by})
		require.True(t, errs.Is(err, errs.KindPreconditionFailed), "%v", err)
		require.Contains(t, err.Error(), "not verified")
		require.Zero(t, charges(fake))

		_, err = c.e.TakeDeskPayment(c.desk, c.practice, carebook.DeskPayment{Patient: c.patient.ID, Appointment: &c.appt.ID,
			Amount: usd(2000), Method: billing.Method{Kind: billing.MethodCash}})
		require.NoError(t, err, "the desk takes money all the same")

		_, err = c.e.PutPaymentPolicy(owner, &billing.Policy{Practice: c.practice, Collect: billing.CollectCardOnFile, NoShow: billing.Fee{Fixed: usd(3000)}})
		require.NoError(t, err)
		require.NoError(t, c.e.Billing.Store().SaveCard(context.Background(), billing.Card{Practice: c.practice, Patient: c.patient.ID,
			Provider: "stripe", Token: "pm_card_visa", Label: "Visa 4242", SavedAt: clk.Now()}))
		c.clk.Set(c.at(3, 3, 11, 0))
		_, err = c.e.Scheduling.Transition(c.staff, c.practice, c.appt.ID, scheduling.StatusNoVisit, "")
		require.NoError(t, err)
		all, err := c.e.Payments(c.desk, c.practice, billing.PaymentFilter{Appointment: &c.appt.ID})
		require.NoError(t, err)
		var fees []*billing.Payment
		for _, p := range all {
			if p.Purpose == billing.PurposeNoShowFee {
				fees = append(fees, p)
			}
		}
		require.Len(t, fees, 1)
		require.Equal(t, billing.ProviderDesk, fees[0].Provider, "an unverified practice's fee is owed at the desk")
		require.Zero(t, charges(fake))

		_, err = c.e.VerifyPractice(owner, c.practice, harborNPI)
		require.NoError(t, err)
		got, _, err := c.e.Billing.Do(c.staff, billing.Step{Practice: c.practice, Payment: online.ID, Op: billing.OpAuthorize, By: by})
		require.NoError(t, err)
		s, _ := got.Status()
		require.Equal(t, billing.StatusAuthorized, s)
	})
}

// TestSignUpByInvitation: on an invite-only server a clinic signs up only
// with a code the operator issued, once, even when sign-ups race for it;
// an open server asks for none.
func TestSignUpByInvitation(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC))), carebook.WithSignUp(carebook.SignUpInvite))
		require.Equal(t, carebook.SignUpInvite, e.SignUpMode())
		in := carebook.ClinicSignUp{Email: "owner@lakeside.example", Password: "a long enough passphrase", ClinicName: "Lakeside Clinic"}
		_, err := e.SignUpClinic(ctx, in)
		require.Equal(t, "invitation", errs.FieldOf(err), "%v", err)
		in.Invitation = "cbs_made_up"
		_, err = e.SignUpClinic(ctx, in)
		require.Equal(t, "invitation", errs.FieldOf(err), "%v", err)

		code, err := e.IssueSignUpCode(ctx, "for Lakeside")
		require.NoError(t, err)
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				one := in
				one.Invitation, one.Email = code, "owner"+string(rune('a'+i))+"@lakeside.example"
				_, err := e.SignUpClinic(ctx, one)
				switch {
				case err == nil:
					ok.Add(1)
				case errs.FieldOf(err) != "invitation":
					t.Errorf("SignUpClinic: %v", err)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), ok.Load(), "one clinic per invitation")

		_, err = e.IssueSignUpCode(ctx, string(make([]byte, 201)))
		require.Equal(t, "note", errs.FieldOf(err))

		open := carebook.NewWithStore(st)
		require.Equal(t, carebook.SignUpOpen, open.SignUpMode())
		in.Invitation, in.Email = "", "other@lakeside.example"
		_, err = open.SignUpClinic(ctx, in)
		require.NoError(t, err)
		require.Panics(t, func() { carebook.NewWithStore(st, carebook.WithSignUp("closed")) })
	})
}
