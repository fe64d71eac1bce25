package directory

import "regexp"

// Attribution is the notice carried wherever the specialty names are shown,
// as the NUCC asks of users of its code set.
const Attribution = "Specialty codes and names are from the Health Care Provider Taxonomy code set, " +
	"maintained by the National Uniform Claim Committee (NUCC), https://www.nucc.org; " +
	"copyright American Medical Association. Used with the NUCC's attribution; " +
	"carebook carries only a curated subset of common physician specialties."

// taxonomyCode is the format of a NUCC provider taxonomy code.
var taxonomyCode = regexp.MustCompile(`^[0-9A-Z]{9}X$`)

// ValidTaxonomyCode reports whether code has the format of a NUCC provider
// taxonomy code: nine digits or upper-case letters, then X.
func ValidTaxonomyCode(code string) bool { return taxonomyCode.MatchString(code) }

// Specialty is one provider taxonomy code with its display name.
type Specialty struct {
	Code string // such as "207Q00000X"
	Name string // such as "Family Medicine"
}

// specialties is the curated table of common physician specialties.
var specialties = []Specialty{
	{"207Q00000X", "Family Medicine"},
	{"207QS0010X", "Sports Medicine (Family Medicine)"},
	{"208D00000X", "General Practice"},
	{"207R00000X", "Internal Medicine"},
	{"207RC0000X", "Cardiovascular Disease"},
	{"207RE0101X", "Endocrinology, Diabetes & Metabolism"},
	{"207RG0100X", "Gastroenterology"},
	{"207RG0300X", "Geriatric Medicine"},
	{"207RH0003X", "Hematology & Oncology"},
	{"207RI0200X", "Infectious Disease"},
	{"207RN0300X", "Nephrology"},
	{"207RP1001X", "Pulmonary Disease"},
	{"207RR0500X", "Rheumatology"},
	{"207RX0202X", "Medical Oncology"},
	{"208000000X", "Pediatrics"},
	{"207V00000X", "Obstetrics & Gynecology"},
	{"207VG0400X", "Gynecology"},
	{"207VX0000X", "Obstetrics"},
	{"207N00000X", "Dermatology"},
	{"207K00000X", "Allergy & Immunology"},
	{"2084N0400X", "Neurology"},
	{"2084P0800X", "Psychiatry"},
	{"207X00000X", "Orthopaedic Surgery"},
	{"207W00000X", "Ophthalmology"},
	{"207Y00000X", "Otolaryngology"},
	{"208800000X", "Urology"},
	{"208100000X", "Physical Medicine & Rehabilitation"},
	{"207P00000X", "Emergency Medicine"},
	{"208600000X", "Surgery"},
	{"207T00000X", "Neurological Surgery"},
}

// byCode indexes specialties by code.
var byCode = func() map[string]Specialty {
	m := make(map[string]Specialty, len(specialties))
	for _, s := range specialties {
		m[s.Code] = s
	}
	return m
}()

// Specialties returns the curated specialties, sorted by name.
func Specialties() []Specialty { return defaultTaxonomy.Specialties() }

// LookupSpecialty returns the curated specialty of code, if it is one; a
// Taxonomy (the Engine's) also knows the codes of a loaded NUCC file.
func LookupSpecialty(code string) (Specialty, bool) { return defaultTaxonomy.Lookup(code) }
