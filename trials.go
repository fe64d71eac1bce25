package carebook

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
)

// Trials: a plan's TrialDays start a subscription trialing (Subscribe).
// The practice's administrator (practice.manage) saves a card for the
// operator's invoices through an online adapter that saves cards
// (billing.CardSaver): SetupPaymentMethod starts the provider's setup,
// whose client secret the browser completes in the provider's hosted
// fields, and AttachPaymentMethod records the completed card. Both are
// EffectRestore: they go on while the practice is read-only, and
// attaching lifts a trial's end. The trial job (EndTrials, TrialJobName)
// ends each trial that ran out: active with a payment method on file,
// else read-only (ReadOnlyTrialEnded).

// TrialJobName names the job that ends the trials that ran out.
const TrialJobName = "billing.trials"

// DefaultTrialsEvery is how often the trial job runs when JobsConfig
// leaves TrialsEvery 0.
const DefaultTrialsEvery = 5 * time.Minute

// The activity log's actions of a practice's payment method and trial;
// the ResourceType is "payment_method" or "subscription".
const (
	ActionPaymentMethodSetup  = "billing.payment_method.setup"
	ActionPaymentMethodAttach = "billing.payment_method.attach"
	ActionTrialConverted      = "billing.trial.converted"
)

// trialBatch is how many ended trials EndTrials reads at a time.
const trialBatch = 100

// paymentMethodAccess is the access of the practice's administrator to its
// payment method: practice.manage, going on while it is read-only.
func paymentMethodAccess(practice tenant.PracticeID, action string) Access {
	return Access{Permission: rbac.PracticeManage, PracticeID: practice, Effect: EffectRestore,
		Action: action, ResourceType: "payment_method", ResourceID: practice.String()}
}

// cardSaver returns the adapter registered as provider if it saves cards,
// else KindInvalid naming "provider".
func (e *Engine) cardSaver(op, provider string) (billing.CardSaver, error) {
	a, ok := e.payAdapters[provider]
	if !ok {
		return nil, errs.Invalid(op, "provider", "no online payment provider "+quoteName(provider)+" is configured on this server")
	}
	cs, ok := a.(billing.CardSaver)
	if !ok {
		return nil, errs.Invalid(op, "provider", "the payment provider "+quoteName(provider)+" does not save cards")
	}
	return cs, nil
}

// quoteName quotes a name of the caller's for a message, cut to 40 bytes.
func quoteName(s string) string { return `"` + clip(s, 40) + `"` }

// SetupPaymentMethod starts saving a card of the practice at provider, for
// the practice's administrator (practice.manage): the provider's setup,
// whose ClientSecret the browser completes (then AttachPaymentMethod). A
// setup moves no money; each call starts another. A provider that is not
// configured, or does not save cards, is KindInvalid naming "provider".
func (e *Engine) SetupPaymentMethod(ctx context.Context, practice tenant.PracticeID, provider string) (billing.SavedCard, error) {
	const op = "carebook.SetupPaymentMethod"
	a := paymentMethodAccess(practice, ActionPaymentMethodSetup)
	cs, err := e.cardSaver(op, provider)
	if err != nil {
		return billing.SavedCard{}, e.Refuse(ctx, a, err)
	}
	pm, err := e.Authorize(ctx, a)
	if err != nil {
		return billing.SavedCard{}, err
	}
	var out billing.SavedCard
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		out, err = cs.SetupCard(ctx, billing.CardSetup{Key: billing.DeriveKey(e.IDs.New(), billing.OpSetupCard, 1)})
		return "", err
	})
	return out, err
}

// PaymentMethodInput is a card the practice saved at a provider, as the
// provider's hosted fields hand it back.
type PaymentMethodInput struct {
	Provider string // the adapter's name, as given to WithPaymentAdapter
	SetupRef string // the setup's ID (billing.SavedCard.ID), if any
	Token    string // the saved card's token: required
	Label    string // what the practice sees, such as "Visa ending 4242"
}

// validate checks in for op, naming the field at fault.
func (in *PaymentMethodInput) validate(op string) error {
	for _, f := range []struct{ name, v string }{{"setup_ref", in.SetupRef}, {"token", in.Token}, {"label", in.Label}} {
		if len(f.v) > 200 || !utf8.ValidString(f.v) || strings.ContainsAny(f.v, "\x00\r\n") {
			return errs.Invalid(op, f.name, "at most 200 bytes of text on one line")
		}
	}
	if strings.TrimSpace(in.Token) == "" {
		return errs.Invalid(op, "token", "is required: the token of the card the provider saved")
	}
	return nil
}

// AttachPaymentMethod records in as the practice's payment method,
// replacing an earlier one, for its administrator (practice.manage), and
// lifts a trial's end: a practice read-only because its trial ended
// writes again from the next request, and one whose trial ran out before
// the trial job saw it becomes active. Bad input is KindInvalid naming
// the field, told only to a caller who may attach one.
func (e *Engine) AttachPaymentMethod(ctx context.Context, practice tenant.PracticeID, in PaymentMethodInput) (*billing.PaymentMethod, error) {
	const op = "carebook.AttachPaymentMethod"
	a := paymentMethodAccess(practice, ActionPaymentMethodAttach)
	if err := in.validate(op); err != nil {
		return nil, e.Refuse(ctx, a, err)
	}
	if _, err := e.cardSaver(op, in.Provider); err != nil {
		return nil, e.Refuse(ctx, a, err)
	}
	pm, err := e.Authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	c, _ := CallerFrom(ctx)
	m := e.paymentMethodOf(practice, in, c.Actor.String())
	if err := pm.Do(ctx, func(ctx context.Context) (string, error) { return "", e.putPaymentMethod(ctx, m) }); err != nil {
		return nil, err
	}
	return m, nil
}

// paymentMethodOf is the payment method in, saved now by who.
func (e *Engine) paymentMethodOf(practice tenant.PracticeID, in PaymentMethodInput, who string) *billing.PaymentMethod {
	return &billing.PaymentMethod{Practice: practice, Provider: in.Provider, SetupRef: in.SetupRef, Token: in.Token,
		Label: strings.TrimSpace(in.Label), SavedAt: e.now(), SavedBy: who}
}

// putPaymentMethod records m as its practice's payment method, in the
// transaction in ctx, with what it restores: the invoices whose retries
// are spent due again, a trial that ran out converted, the trial's
// read-only state lifted.
func (e *Engine) putPaymentMethod(ctx context.Context, m *billing.PaymentMethod) error {
	practice, now := m.Practice, m.SavedAt
	// The subscription's row orders this against the trial job's
	// decision on the same practice.
	sub, err := e.store.Billing.LockSubscription(ctx, practice)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return err
	}
	if err := e.store.Billing.PutPaymentMethod(ctx, m); err != nil {
		return err
	}
	if err := e.invoicesDueAgain(ctx, practice, now); err != nil {
		return err
	}
	if sub != nil && sub.Status == billing.SubscriptionTrialing && !now.Before(sub.TrialEnd) {
		if err := e.convertTrial(ctx, practice, now); err != nil {
			return err
		}
	}
	return e.leaveReadOnly(ctx, practice, string(billing.ReadOnlyTrialEnded))
}

// PracticePaymentMethod returns the practice's payment method on file, for
// its staff holding billing.read; none is KindNotFound naming
// "payment_method".
func (e *Engine) PracticePaymentMethod(ctx context.Context, practice tenant.PracticeID) (*billing.PaymentMethod, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.BillingRead, PracticeID: practice})
	if err != nil {
		return nil, err
	}
	var out *billing.PaymentMethod
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		out, err = e.store.Billing.PaymentMethod(ctx, practice)
		return "", errs.WithField(err, "payment_method")
	})
	return out, err
}

// convertTrial makes the practice's ended trial an active subscription,
// logged as ActionTrialConverted by the billing system.
func (e *Engine) convertTrial(ctx context.Context, practice tenant.PracticeID, now time.Time) error {
	if _, err := e.store.Billing.SetSubscriptionStatus(ctx, practice, billing.SubscriptionActive, now); err != nil {
		return err
	}
	return e.Log(ctx, Entry(ctx, practice, audit.SystemActor(TrialJobName), ActionTrialConverted, "subscription", practice.String(), audit.Allowed))
}

// EndTrials ends every trial that ran out by the engine's clock: a
// practice with a payment method on file becomes active, one without
// becomes read-only (ReadOnlyTrialEnded). Each practice is decided in its
// own transaction, holding its subscription's row, so that a payment
// method attached at that moment is seen; any number of replicas may run
// it. It returns how many practices it made read-only.
func (e *Engine) EndTrials(ctx context.Context) (int, error) {
	readOnly := 0
	for {
		now := e.Clock.Now().UTC().Truncate(time.Microsecond)
		subs, err := e.store.Billing.TrialsEnded(ctx, now, trialBatch)
		if err != nil || len(subs) == 0 {
			return readOnly, err
		}
		for _, s := range subs {
			made, err := e.endTrial(ctx, s.Practice, now)
			if err != nil {
				return readOnly, err
			}
			if made {
				readOnly++
			}
		}
		if len(subs) < trialBatch {
			return readOnly, nil
		}
	}
}

// endTrial ends the practice's trial if it still runs out at now, and
// reports whether it made the practice read-only.
func (e *Engine) endTrial(ctx context.Context, practice tenant.PracticeID, now time.Time) (bool, error) {
	made := false
	err := e.InTx(ctx, func(ctx context.Context) error {
		sub, err := e.store.Billing.LockSubscription(ctx, practice)
		if err != nil || sub.Status != billing.SubscriptionTrialing || now.Before(sub.TrialEnd) {
			return err
		}
		_, err = e.store.Billing.PaymentMethod(ctx, practice)
		switch {
		case err == nil:
			return e.convertTrial(ctx, practice, now)
		case !errs.Is(err, errs.KindNotFound):
			return err
		}
		made = true
		return e.enterReadOnly(ctx, practice, string(billing.ReadOnlyTrialEnded))
	})
	return made && err == nil, err
}
