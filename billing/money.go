package billing

import (
	"math"
	"strconv"
	"strings"

	"github.com/carebook/carebook/errs"
)

// Currency is an ISO 4217 alphabetic currency code, such as "USD".
type Currency string

// minorUnits holds the ISO 4217 minor-unit exponent of the currencies
// carebook knows: the number of decimal places between a major unit and the
// minor unit amounts are counted in.
var minorUnits = map[Currency]int{
	// Two decimals.
	"AED": 2, "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2,
	"DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "ILS": 2,
	"INR": 2, "MAD": 2, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "PHP": 2,
	"PLN": 2, "RON": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TRY": 2,
	"TWD": 2, "USD": 2, "ZAR": 2,
	// No decimals.
	"CLP": 0, "ISK": 0, "JPY": 0, "KRW": 0, "PYG": 0, "UGX": 0, "VND": 0,
	"XAF": 0, "XOF": 0,
	// Three decimals.
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// MinorUnits returns the currency's ISO 4217 minor-unit exponent (2 for USD,
// 0 for JPY, 3 for KWD) and whether carebook knows the currency.
func (c Currency) MinorUnits() (int, bool) {
	n, ok := minorUnits[c]
	return n, ok
}

// Known reports whether carebook knows the currency.
func (c Currency) Known() bool {
	_, ok := minorUnits[c]
	return ok
}

// Money is an amount in integer minor units of its currency (cents for USD,
// yen for JPY, fils for KWD). It is never negative: what goes out (a refund)
// is told by the kind of ledger entry, not by the sign. The zero value has no
// currency and is not a valid amount.
type Money struct {
	Amount   int64    // in minor units; never negative
	Currency Currency // ISO 4217
}

// NewMoney returns amount minor units of currency, or an error of
// errs.KindInvalid naming "amount" or "currency".
func NewMoney(amount int64, currency string) (Money, error) {
	m := Money{Amount: amount, Currency: Currency(currency)}
	if err := m.Validate("billing.NewMoney", "amount"); err != nil {
		return Money{}, err
	}
	return m, nil
}

// Validate checks m for operation op: a known currency and a non-negative
// amount. Errors are of errs.KindInvalid and name field for the amount and
// field+".currency" for the currency; a field of "amount" names "currency"
// alone.
func (m Money) Validate(op, field string) error {
	if !m.Currency.Known() {
		msg := "a currency is required"
		if m.Currency != "" {
			msg = "unknown currency " + strconv.Quote(string(m.Currency)) + " (an ISO 4217 code such as USD)"
		}
		return errs.Invalid(op, currencyField(field), msg)
	}
	if m.Amount < 0 {
		return errs.Invalid(op, field, "the amount must not be negative")
	}
	return nil
}

func currencyField(field string) string {
	if field == "" || field == "amount" {
		return "currency"
	}
	return field + ".currency"
}

// IsZero reports whether the amount is zero (whatever the currency).
func (m Money) IsZero() bool { return m.Amount == 0 }

// Add returns m+n. Both must be valid and in the same currency; a sum past
// the largest int64 is an error of errs.KindInvalid naming "amount".
func (m Money) Add(n Money) (Money, error) {
	const op = "billing.Money.Add"
	if err := sameCurrency(op, m, n); err != nil {
		return Money{}, err
	}
	if n.Amount > math.MaxInt64-m.Amount {
		return Money{}, errs.Invalid(op, "amount", "the amount is too large")
	}
	return Money{Amount: m.Amount + n.Amount, Currency: m.Currency}, nil
}

// Sub returns m-n. Both must be valid and in the same currency; a result
// below zero is an error of errs.KindInvalid naming "amount".
func (m Money) Sub(n Money) (Money, error) {
	const op = "billing.Money.Sub"
	if err := sameCurrency(op, m, n); err != nil {
		return Money{}, err
	}
	if n.Amount > m.Amount {
		return Money{}, errs.Invalid(op, "amount", "the amount would be negative")
	}
	return Money{Amount: m.Amount - n.Amount, Currency: m.Currency}, nil
}

func sameCurrency(op string, m, n Money) error {
	if err := m.Validate(op, "amount"); err != nil {
		return err
	}
	if err := n.Validate(op, "amount"); err != nil {
		return err
	}
	if m.Currency != n.Currency {
		return errs.Invalid(op, "currency", "currency "+string(n.Currency)+" does not match "+string(m.Currency))
	}
	return nil
}

// String renders m in major units with the currency's decimals and its
// code: "12.34 USD", "1200 JPY", "1.250 KWD". An unknown currency renders
// its minor units as they are.
func (m Money) String() string {
	exp, ok := m.Currency.MinorUnits()
	digits := strconv.FormatInt(m.Amount, 10)
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if ok && exp > 0 {
		if len(digits) <= exp {
			digits = strings.Repeat("0", exp-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	}
	if neg {
		digits = "-" + digits
	}
	if m.Currency == "" {
		return digits
	}
	return digits + " " + string(m.Currency)
}

// maxMajor bounds the major units ParseMoney takes, far below what int64
// minor units hold.
const maxMajor = 1_000_000_000

// ParseMoney reads s, an amount in major units as a person types it
// ("45", "45.5", "45.50"; no sign, no thousands separators, at most the
// currency's decimals), as Money in currency. Errors are of
// errs.KindInvalid naming field (or its currency, as Money.Validate does).
func ParseMoney(s string, currency Currency, field string) (Money, error) {
	const op = "billing.ParseMoney"
	exp, ok := currency.MinorUnits()
	if !ok {
		return Money{}, errs.Invalid(op, currencyField(field), "unknown currency "+quote(string(currency)))
	}
	whole, frac, dot := strings.Cut(strings.TrimSpace(s), ".")
	bad := errs.Invalid(op, field, "write an amount such as 45 or 45.50")
	if whole == "" || len(frac) > exp || (dot && frac == "") || len(whole) > 10 {
		if len(frac) > exp {
			return Money{}, errs.Invalid(op, field, "at most "+strconv.Itoa(exp)+" decimals in "+string(currency))
		}
		return Money{}, bad
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return Money{}, bad
			}
		}
	}
	major, _ := strconv.ParseInt(whole, 10, 64) // digits only, at most 10
	if major > maxMajor {
		return Money{}, errs.Invalid(op, field, "the amount is too large")
	}
	minor := int64(0)
	if frac != "" {
		minor, _ = strconv.ParseInt(frac+strings.Repeat("0", exp-len(frac)), 10, 64)
	}
	scale := int64(1)
	for range exp {
		scale *= 10
	}
	return Money{Amount: major*scale + minor, Currency: currency}, nil
}
