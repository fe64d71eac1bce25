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
)

// ProviderDesk is the Provider of payments taken at the front desk
// (billing/offline).
const ProviderDesk = "desk"

// Valid reports whether p is one of the purposes above.
func (p Purpose) Valid() bool {
	switch p {
	case PurposeVisit, PurposeDeposit, PurposeNoShowFee, PurposeLateCancel, PurposeOther:
		return true
	}
	return false
}

// Fee reports whether p is a fee the practice's policy charges on its own
// (a no-show or a late cancellation): at most one of each per appointment.
func (p Purpose) Fee() bool { return p == PurposeNoShowFee || p == PurposeLateCancel }
