package billing

// Purpose is what a payment is for.
type Purpose string

// The purposes of a payment.
const (
	PurposeVisit      Purpose = "visit"       // the visit itself: paid at the desk, or prepaid online
	PurposeDeposit    Purpose = "deposit"     // part of the visit, held or taken when it is booked
	PurposeNoShowFee  Purpose = "no_show_fee" // the patient did not come (the visit moved to no-visit)
	PurposeLateCancel Purpose = "late_cancel" // the patient canceled inside the cancellation cut-off
	PurposeOther      Purpose = "other"       // anything else taken at the desk (a form, a copy of a record)
	// PurposeOverpaid is money a provider took for a visit's payment
	// that had been taken otherwise meanwhile (paid at the desk while the
	// patient paid online): recorded on a payment of its own, to refund.
	PurposeOverpaid Purpose = "overpaid"
)

// ProviderDesk is the Provider of payments taken at the front desk
// (billing/offline).
const ProviderDesk = "desk"

// Valid reports whether p is one of the purposes above.
func (p Purpose) Valid() bool {
	switch p {
	case PurposeVisit, PurposeDeposit, PurposeNoShowFee, PurposeLateCancel, PurposeOther, PurposeOverpaid:
		return true
	}
	return false
}

// Fee reports whether p is a fee the practice's policy charges on its own
// (a no-show or a late cancellation): at most one of each per appointment.
func (p Purpose) Fee() bool { return p == PurposeNoShowFee || p == PurposeLateCancel }

// Visit reports whether p is of the visit's own money, which a Balance
// sums: the visit, its deposit, or what was taken twice for it.
func (p Purpose) Visit() bool {
	return p == PurposeVisit || p == PurposeDeposit || p == PurposeOverpaid
}
