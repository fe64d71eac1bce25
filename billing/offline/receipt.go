package offline

import (
	"fmt"
	"strings"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
)

// Receipt is a payment's receipt: everything printed on it, taken from the
// payment's ledger alone, so that printing it again, at any time, gives the
// same receipt byte for byte.
type Receipt struct {
	Number    string // "R-" and the payment's ID
	Practice  string // the practice's name, as printed
	Payment   billing.PaymentID
	Method    billing.MethodKind
	Reference string    // the terminal's slip, the cheque's number, the claim
	Issued    time.Time // the first entry's time, in the receipt's time zone
	Lines     []Line
	Paid      billing.Money
	Refunded  billing.Money
	Net       billing.Money
	Status    billing.Status
}

// Line is one ledger entry on a receipt.
type Line struct {
	Seq      int
	At       time.Time // in the receipt's time zone
	Kind     billing.EntryKind
	Amount   billing.Money
	By       string // who took or gave it, "kind:id"
	Reverses int    // for a reversal, the line it undoes
	Reason   string
}

// NewReceipt makes the receipt of p for the practice called practice, with
// times shown in loc (the location's time zone; nil is UTC). A payment
// with an empty ledger has no receipt (errs.KindConflict); a ledger that
// breaks billing's rules is refused with Summarize's error.
func NewReceipt(p *billing.Payment, practice string, loc *time.Location) (Receipt, error) {
	const op = "offline.NewReceipt"
	if loc == nil {
		loc = time.UTC
	}
	if len(p.Ledger) == 0 {
		return Receipt{}, errs.Conflict(op, "nothing was paid yet")
	}
	t, err := p.Totals()
	if err != nil {
		return Receipt{}, err
	}
	status, err := p.Status()
	if err != nil {
		return Receipt{}, err
	}
	r := Receipt{
		Number:    "R-" + p.ID.String(),
		Practice:  practice,
		Payment:   p.ID,
		Method:    p.Method.Kind,
		Reference: p.Method.Reference,
		Issued:    p.Ledger[0].At.In(loc),
		Paid:      t.Paid,
		Refunded:  t.Refunded,
		Net:       t.Net,
		Status:    status,
	}
	for _, e := range p.Ledger {
		r.Lines = append(r.Lines, Line{Seq: e.Seq, At: e.At.In(loc), Kind: e.Kind, Amount: e.Amount, By: e.By.String(), Reverses: e.Reverses, Reason: e.Reason})
	}
	return r, nil
}

// Receipt makes the receipt of the desk's payment ref (see NewReceipt).
func (d *Desk) Receipt(ref billing.Ref, practice string, loc *time.Location) (Receipt, error) {
	p, err := d.Payment(ref)
	if err != nil {
		return Receipt{}, err
	}
	return NewReceipt(p, practice, loc)
}

const (
	receiptWidth = 64
	timeLayout   = "2006-01-02 15:04 MST"
)

// Text renders the receipt as plain text, 64 columns wide, ending in a
// newline. It depends on the receipt alone: the same receipt renders the
// same bytes every time.
func (r Receipt) Text() string {
	var b strings.Builder
	rule := strings.Repeat("-", receiptWidth) + "\n"
	fmt.Fprintf(&b, "%s\n", clip(r.Practice))
	fmt.Fprintf(&b, "RECEIPT %s\n", r.Number)
	b.WriteString(rule)
	fmt.Fprintf(&b, "%-10s %s\n", "Issued", r.Issued.Format(timeLayout))
	fmt.Fprintf(&b, "%-10s %s\n", "Method", methodName(r.Method))
	if r.Reference != "" {
		fmt.Fprintf(&b, "%-10s %s\n", "Reference", clip(r.Reference))
	}
	b.WriteString(rule)
	for _, l := range r.Lines {
		what := kindName(l.Kind)
		if l.Kind == billing.EntryReversed {
			what = fmt.Sprintf("reversal of %d", l.Reverses)
		}
		amount := l.Amount.String()
		if l.Kind == billing.EntryRefunded {
			amount = "-" + amount
		}
		fmt.Fprintf(&b, "%2d %s  %-16s %18s\n", l.Seq, l.At.Format(timeLayout), what, amount)
		fmt.Fprintf(&b, "   by %s\n", clip(l.By))
		if l.Reason != "" {
			fmt.Fprintf(&b, "   %s\n", clip(l.Reason))
		}
	}
	b.WriteString(rule)
	fmt.Fprintf(&b, "%-10s %18s\n", "Paid", r.Paid)
	fmt.Fprintf(&b, "%-10s %18s\n", "Refunded", r.Refunded)
	fmt.Fprintf(&b, "%-10s %18s\n", "Net", r.Net)
	fmt.Fprintf(&b, "%-10s %s\n", "Status", strings.ReplaceAll(string(r.Status), "_", " "))
	return b.String()
}

// clip keeps a printed value on one line of the receipt.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	if rs := []rune(s); len(rs) > receiptWidth-4 {
		s = string(rs[:receiptWidth-5]) + "…"
	}
	return s
}

func methodName(k billing.MethodKind) string {
	switch k {
	case billing.MethodCash:
		return "cash"
	case billing.MethodCardTerminal:
		return "card (terminal)"
	case billing.MethodCheque:
		return "cheque"
	case billing.MethodInsuranceCopay:
		return "insurance copay"
	case billing.MethodCardOnline:
		return "card (online)"
	}
	return string(k)
}

func kindName(k billing.EntryKind) string {
	switch k {
	case billing.EntryAuthorized:
		return "held"
	case billing.EntryCharged:
		return "paid"
	case billing.EntryCaptured:
		return "captured"
	case billing.EntryCanceled:
		return "hold released"
	case billing.EntryRefunded:
		return "refunded"
	}
	return string(k)
}
