// Package contact checks and normalizes the ways to reach a person: phone
// numbers in E.164 form and email addresses. Patients, accounts and
// messages share these rules.
package contact

import (
	"net/mail"
	"regexp"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone checks that s is a valid phone number in E.164 form
// ("+" and country code) and returns it in canonical E.164.
func NormalizePhone(op, field, s string) (string, error) {
	// Spaces, dots, dashes and parentheses are common formatting; letters,
	// extensions and a second "+" are refused.
	bare := phoneFormatting.Replace(s)
	if !strings.HasPrefix(s, "+") || !e164.MatchString(bare) {
		return "", errs.Invalid(op, field, "must be in E.164 form, such as +12025550143")
	}
	n, err := phonenumbers.Parse(bare, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", errs.Invalid(op, field, "is not a valid phone number")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// NormalizeEmail checks a bare email address and returns it lower-cased.
func NormalizeEmail(op, field, s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", errs.Invalid(op, field, "is not a valid email address")
	}
	_, domain, _ := strings.Cut(s, "@")
	if !emailDomain.MatchString(domain) {
		return "", errs.Invalid(op, field, "is not a valid email address")
	}
	return strings.ToLower(s), nil
}

var (
	phoneFormatting = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "")
	e164            = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	// emailDomain is a DNS name of two or more labels, none starting or
	// ending with a hyphen.
	emailDomain = regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)
