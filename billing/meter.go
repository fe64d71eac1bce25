package billing

import (
	"regexp"
	"strconv"

	"github.com/carebook/carebook/errs"
)

// Meter names what the operator counts of a practice's use of carebook,
// such as "bookings". The set is open: a plan may price any meter whose
// name matches MeterPattern; the engine records the ones below.
type Meter string

// The meters the engine records.
const (
	MeterBookings        Meter = "bookings"         // appointments booked
	MeterSMSSent         Meter = "sms_sent"         // SMS messages sent
	MeterEmailsSent      Meter = "emails_sent"      // emails sent
	MeterActiveProviders Meter = "active_providers" // providers seeing patients in the period
)

// MeterPattern is what a meter's name looks like: a lower-case letter, then
// up to 39 lower-case letters, digits or underscores.
const MeterPattern = `^[a-z][a-z0-9_]{0,39}$`

var meterRE = regexp.MustCompile(MeterPattern)

// Validate checks the meter's name for op, naming field when it is bad.
func (m Meter) Validate(op, field string) error {
	if !meterRE.MatchString(string(m)) {
		return errs.Invalid(op, field, "a meter is "+strconv.Quote(MeterPattern)+", such as \"sms_sent\"")
	}
	return nil
}
