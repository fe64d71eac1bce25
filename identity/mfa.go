package identity

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: those every authenticator app supports.
const (
	totpPeriod = 30 // seconds
	totpDigits = otp.DigitsSix
)

// RecoveryCodeCount is how many recovery codes ConfirmTOTP hands out.
const RecoveryCodeCount = 10

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}

// TOTPEnrollment is what an authenticator app needs: the base32 secret, and
// the otpauth:// URL that a QR code carries.
type TOTPEnrollment struct {
	Secret string `json:"secret"`
	URL    string `json:"url"`
}

// EnrollTOTP starts TOTP enrollment: it makes a new secret for account,
// not yet enabled until ConfirmTOTP. Enrolling again before confirming
// replaces the secret; an account with TOTP already on gets KindConflict.
func (s *Service) EnrollTOTP(ctx context.Context, account AccountID) (*TOTPEnrollment, error) {
	const op = "identity.EnrollTOTP"
	a, err := s.store.GetAccount(ctx, account)
	if err != nil {
		return nil, err
	}
	if a.TOTPEnabled {
		return nil, errs.Conflict(op, "TOTP is already enabled")
	}
	name := a.Email
	if name == "" {
		name = a.Phone
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: s.cfg.TOTPIssuer, AccountName: name, Period: totpPeriod, Digits: totpDigits,
		Algorithm: otp.AlgorithmSHA1, Rand: rand.Reader,
	})
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "cannot make a TOTP secret", err)
	}
	stored, err := sealSecret(ctx, s.cfg.Keys, account, key.Secret())
	if err != nil {
		return nil, err
	}
	if err := s.store.SetTOTP(ctx, account, stored, false, 0, s.now()); err != nil {
		return nil, err
	}
	return &TOTPEnrollment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP enables TOTP for account once code proves the app holds the
// enrolled secret, and returns RecoveryCodeCount one-time recovery codes
// (shown only here; only their hashes are kept). It gives KindPreconditionFailed
// (field "code") when no enrollment is pending, KindInvalid (field "code") for
// a wrong code.
func (s *Service) ConfirmTOTP(ctx context.Context, account AccountID, code string) ([]string, error) {
	const op = "identity.ConfirmTOTP"
	now := s.now()
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = HashToken(normalizeRecoveryCode(codes[i]))
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Lock(ctx, account); err != nil {
			return err
		}
		a, err := s.store.GetAccount(ctx, account)
		if err != nil {
			return err
		}
		if a.TOTPEnabled {
			return errs.Conflict(op, "TOTP is already enabled")
		}
		if a.TOTPSecret == "" {
			return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "code", Msg: "enroll first"}
		}
		secret, err := openSecret(ctx, s.cfg.Keys, account, a.TOTPSecret)
		if err != nil {
			return err
		}
		step, ok := totpStep(secret, code, now)
		if !ok {
			return errs.Invalid(op, "code", "wrong code")
		}
		stored, err := s.sealed(ctx, a, secret)
		if err != nil {
			return err
		}
		if err := s.store.SetTOTP(ctx, account, stored, true, step, now); err != nil {
			return err
		}
		return s.store.ReplaceRecoveryCodes(ctx, account, hashes, now)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RecoveryCodesLeft returns how many unused recovery codes account has.
func (s *Service) RecoveryCodesLeft(ctx context.Context, account AccountID) (int, error) {
	return s.store.CountRecoveryCodes(ctx, account)
}

// sealed returns how a's TOTP secret, whose clear text is secret, is to be
// stored: as it is when already sealed, else sealed.
func (s *Service) sealed(ctx context.Context, a *Account, secret string) (string, error) {
	if sealed(a.TOTPSecret) {
		return a.TOTPSecret, nil
	}
	return sealSecret(ctx, s.cfg.Keys, a.ID, secret)
}

// sealLegacySecret seals, in tx, the TOTP secret of a stored in clear
// by an earlier release (a lazy re-encryption, on sign-in), keeping its
// last accepted step. A sealed secret writes nothing.
func (s *Service) sealLegacySecret(ctx context.Context, tx Store, a *Account, secret string, now time.Time) error {
	stored, err := s.sealed(ctx, a, secret)
	if err != nil || stored == a.TOTPSecret {
		return err
	}
	cur, err := tx.GetAccount(ctx, a.ID) // the step the second factor just used
	if err != nil {
		return err
	}
	return tx.SetTOTP(ctx, a.ID, stored, cur.TOTPEnabled, cur.TOTPLastStep, now)
}

// secondFactor checks and consumes the TOTP or recovery code of a login,
// inside its transaction; secret is a's TOTP secret in clear. On failure it
// returns errSecondFactor and the field at fault.
func secondFactor(ctx context.Context, tx Store, a *Account, secret string, req LoginRequest, now time.Time) (string, error) {
	if req.TOTPCode != "" {
		step, ok := totpStep(secret, req.TOTPCode, now)
		if !ok {
			return "totp_code", errSecondFactor
		}
		if err := tx.UseTOTPStep(ctx, a.ID, step); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return "totp_code", errSecondFactor
			}
			return "", err
		}
		return "", nil
	}
	err := tx.UseRecoveryCode(ctx, a.ID, HashToken(normalizeRecoveryCode(req.RecoveryCode)), now)
	if errs.Is(err, errs.KindConflict) || errs.Is(err, errs.KindNotFound) {
		return "recovery_code", errSecondFactor
	}
	return "", err
}

// totpStep returns the time step whose code is code, trying the step of now
// and one on each side (for clock drift), each checked with
// totp.ValidateCustom at that step's time.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.TrimSpace(code)
	for _, d := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		if ok, err := totp.ValidateCustom(code, secret, t, totpOpts); err == nil && ok {
			return t.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// TOTPCode returns the code of secret at t, as an authenticator app shows
// it; tests and demos use it.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

var recoveryEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// newRecoveryCode returns a code of 10 characters (50 bits) in two groups of
// five, such as "k3mzq-8vt2a", from an alphabet without 0/o and 1/l.
func newRecoveryCode() string {
	b := make([]byte, 7)
	_, _ = rand.Read(b)
	s := recoveryEncoding.EncodeToString(b)[:10]
	return s[:5] + "-" + s[5:]
}

// normalizeRecoveryCode forgives case, spaces and dashes.
func normalizeRecoveryCode(c string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(c)))
}
