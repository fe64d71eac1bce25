package scheduling

import (
	"regexp"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
)

// ValidNPI reports whether s is a National Provider Identifier: ten digits
// whose last is the Luhn check digit computed over the prefix 80840 and the
// first nine digits, as CMS specifies.
func ValidNPI(s string) bool {
	if len(s) != 10 {
		return false
	}
	// 80840 contributes a constant 24 to the Luhn sum.
	sum := 24
	for i := 0; i < 9; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 0 { // doubled: positions 1, 3, 5, 7, 9 from the left
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	c := s[9]
	if c < '0' || c > '9' {
		return false
	}
	return (10-sum%10)%10 == int(c-'0')
}

var langTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)

// checkLanguage accepts a BCP 47 tag's common form, such as "en" or "es-MX".
func checkLanguage(op, field, s string) error {
	if s != "" && !langTag.MatchString(s) {
		return errs.Invalid(op, field, "must be a language tag such as en or es-MX")
	}
	return nil
}

// checkBirthDate accepts a YYYY-MM-DD date not after today and not before 1880.
func checkBirthDate(op, field, s string, now time.Time) error {
	d, err := time.Parse(dateLayout, s)
	switch {
	case s == "":
		return errs.Invalid(op, field, "is required")
	case err != nil:
		return errs.Invalid(op, field, "must be a date YYYY-MM-DD")
	case d.After(now):
		return errs.Invalid(op, field, "must not be in the future")
	case d.Year() < 1880:
		return errs.Invalid(op, field, "is too far in the past")
	}
	return nil
}

func checkText(op, field, s string, required bool, max int) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return errs.Invalid(op, field, "is required")
	case len(s) > max:
		return errs.Invalid(op, field, "is too long")
	}
	return nil
}

var specialtyCode = regexp.MustCompile(`^[a-z][a-z0-9-]{1,63}$`)

// normalizeSpecialties lower-cases, checks and de-duplicates specialty codes.
func normalizeSpecialties(op string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if !specialtyCode.MatchString(s) {
			return nil, errs.Invalid(op, "specialties", "codes are lower-case words such as family-medicine")
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}
