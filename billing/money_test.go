package billing_test

import (
	"math"
	"strings"
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
)

func TestNewMoney(t *testing.T) {
	tests := []struct {
		amount    int64
		currency  string
		wantField string // "" when valid
	}{
		{1234, "USD", ""},
		{0, "JPY", ""},
		{1250, "KWD", ""},
		{math.MaxInt64, "EUR", ""},
		{-1, "USD", "amount"},
		{100, "", "currency"},
		{100, "usd", "currency"},
		{100, "XYZ", "currency"},
	}
	for _, tt := range tests {
		m, err := billing.NewMoney(tt.amount, tt.currency)
		if tt.wantField == "" {
			if err != nil || m.Amount != tt.amount || string(m.Currency) != tt.currency {
				t.Errorf("NewMoney(%d, %q) = %v, %v", tt.amount, tt.currency, m, err)
			}
			continue
		}
		if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tt.wantField {
			t.Errorf("NewMoney(%d, %q) error = %v (field %q), want invalid %q", tt.amount, tt.currency, err, errs.FieldOf(err), tt.wantField)
		}
	}
}

func TestMoneyValidateNamesNestedField(t *testing.T) {
	err := billing.Money{Amount: 1, Currency: "ZZZ"}.Validate("op", "fee")
	if got, want := errs.FieldOf(err), "fee.currency"; got != want {
		t.Fatalf("field = %q, want %q", got, want)
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    billing.Money
		want string
	}{
		{billing.Money{Amount: 1234, Currency: "USD"}, "12.34 USD"},
		{billing.Money{Amount: 5, Currency: "USD"}, "0.05 USD"},
		{billing.Money{Amount: 0, Currency: "EUR"}, "0.00 EUR"},
		{billing.Money{Amount: 1200, Currency: "JPY"}, "1200 JPY"},
		{billing.Money{Amount: 1250, Currency: "KWD"}, "1.250 KWD"},
		{billing.Money{Amount: 7, Currency: "BHD"}, "0.007 BHD"},
		{billing.Money{Amount: -5, Currency: "USD"}, "-0.05 USD"},
		{billing.Money{Amount: 42, Currency: "ZZZ"}, "42 ZZZ"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestMoneyAddSub(t *testing.T) {
	usd := func(n int64) billing.Money { return billing.Money{Amount: n, Currency: "USD"} }
	if got, err := usd(150).Add(usd(250)); err != nil || got != usd(400) {
		t.Errorf("Add = %v, %v", got, err)
	}
	if got, err := usd(400).Sub(usd(150)); err != nil || got != usd(250) {
		t.Errorf("Sub = %v, %v", got, err)
	}
	if _, err := usd(math.MaxInt64).Add(usd(1)); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "amount" {
		t.Errorf("overflowing Add error = %v, want invalid amount", err)
	}
	if _, err := usd(1).Sub(usd(2)); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "amount" {
		t.Errorf("negative Sub error = %v, want invalid amount", err)
	}
	if _, err := usd(1).Add(billing.Money{Amount: 1, Currency: "EUR"}); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "currency" {
		t.Errorf("mixed Add error = %v, want invalid currency", err)
	}
	if _, err := usd(-1).Add(usd(1)); !errs.Is(err, errs.KindInvalid) {
		t.Errorf("Add of a negative amount error = %v, want invalid", err)
	}
}

func TestCurrencyMinorUnits(t *testing.T) {
	for c, want := range map[billing.Currency]int{"USD": 2, "JPY": 0, "KWD": 3, "EUR": 2, "ISK": 0, "BHD": 3} {
		if got, ok := c.MinorUnits(); !ok || got != want {
			t.Errorf("%s.MinorUnits() = %d, %v, want %d", c, got, ok, want)
		}
	}
	if _, ok := billing.Currency("XXX").MinorUnits(); ok {
		t.Error("XXX is known")
	}
}

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in    string
		cur   billing.Currency
		want  int64
		field string // the error's field, "" for none
	}{
		{"45", "USD", 4500, ""},
		{"45.5", "USD", 4550, ""},
		{" 45.05 ", "USD", 4505, ""},
		{"0.01", "USD", 1, ""},
		{"1200", "JPY", 1200, ""},
		{"1.25", "KWD", 1250, ""},
		{"1.5", "JPY", 0, "amount"},
		{"45.505", "USD", 0, "amount"},
		{"45.", "USD", 0, "amount"},
		{".5", "USD", 0, "amount"},
		{"-5", "USD", 0, "amount"},
		{"1,000", "USD", 0, "amount"},
		{"1e3", "USD", 0, "amount"},
		{"", "USD", 0, "amount"},
		{"99999999999", "USD", 0, "amount"},
		{"5", "XXX", 0, "currency"},
	}
	for _, c := range cases {
		m, err := billing.ParseMoney(c.in, c.cur, "amount")
		if c.field != "" {
			if errs.FieldOf(err) != c.field {
				t.Errorf("ParseMoney(%q, %s) = %v, %v; want an error naming %s", c.in, c.cur, m, err, c.field)
			}
			continue
		}
		if err != nil || m.Amount != c.want || m.Currency != c.cur {
			t.Errorf("ParseMoney(%q, %s) = %v, %v; want %d", c.in, c.cur, m, err, c.want)
		}
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"45", "45.50", "0.01", "1.", "x", "99999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := billing.ParseMoney(s, "USD", "amount")
		if err != nil {
			if errs.FieldOf(err) != "amount" {
				t.Fatalf("ParseMoney(%q): %v names %q", s, err, errs.FieldOf(err))
			}
			return
		}
		back, err := billing.ParseMoney(strings.TrimSuffix(m.String(), " USD"), "USD", "amount")
		if err != nil || back != m || m.Amount < 0 {
			t.Fatalf("ParseMoney(%q) = %v, which reads back as %v, %v", s, m, back, err)
		}
	})
}
