package directory

// VisitKind is the kind of visit a concern usually needs, which a
// location's visit types are tagged with.
type VisitKind string

// The kinds of visit.
const (
	VisitNewPatient VisitKind = "new-patient" // a first visit with the provider
	VisitProblem    VisitKind = "problem"     // a visit for a new or worsening problem
	VisitPreventive VisitKind = "preventive"  // a physical, a screening, a check-up
	VisitFollowUp   VisitKind = "follow-up"   // a visit about a known condition
)

// valid reports whether k is one of the kinds.
func (k VisitKind) valid() bool {
	switch k {
	case VisitNewPatient, VisitProblem, VisitPreventive, VisitFollowUp:
		return true
	}
	return false
}

// Concern is a health issue as a patient would type it, with its synonyms,
// the specialties (taxonomy codes) that treat it, first the most usual,
// and the kind of visit it usually needs.
type Concern struct {
	Name        string
	Synonyms    []string
	Specialties []string
	Visit       VisitKind
}

const (
	famMed = "207Q00000X"
	intMed = "207R00000X"
	peds   = "208000000X"
)

// concerns is the curated table of health concerns. No open mapping of
// concerns to specialties exists: this one is carebook's own.
var concerns = []Concern{
	{"annual physical", []string{"check-up", "checkup", "wellness visit", "physical exam", "preventive care"}, []string{famMed, intMed, "208D00000X", peds}, VisitPreventive},
	{"back pain", []string{"lower back pain", "sciatica", "lumbago", "spine pain"}, []string{"207X00000X", "208100000X", famMed, "207QS0010X"}, VisitProblem},
	{"neck pain", []string{"stiff neck", "whiplash"}, []string{"207X00000X", "208100000X", famMed}, VisitProblem},
	{"knee pain", []string{"joint pain", "torn meniscus", "sports injury"}, []string{"207X00000X", "207QS0010X", "207RR0500X"}, VisitProblem},
	{"arthritis", []string{"joint swelling", "gout", "lupus"}, []string{"207RR0500X", "207X00000X", intMed}, VisitProblem},
	{"rash", []string{"skin rash", "hives", "eczema", "itchy skin", "psoriasis"}, []string{"207N00000X", "207K00000X", famMed}, VisitProblem},
	{"acne", []string{"pimples", "skin blemishes"}, []string{"207N00000X"}, VisitProblem},
	{"mole check", []string{"skin cancer screening", "skin check"}, []string{"207N00000X"}, VisitPreventive},
	{"anxiety", []string{"panic attacks", "worry", "stress"}, []string{"2084P0800X", famMed, intMed}, VisitNewPatient},
	{"depression", []string{"low mood", "sadness", "mental health"}, []string{"2084P0800X", famMed, intMed}, VisitNewPatient},
	{"insomnia", []string{"trouble sleeping", "sleep problems"}, []string{"2084P0800X", "2084N0400X", "207RP1001X", famMed}, VisitProblem},
	{"headache", []string{"migraine", "head pain"}, []string{"2084N0400X", famMed, intMed}, VisitProblem},
	{"dizziness", []string{"vertigo", "lightheaded"}, []string{"2084N0400X", "207Y00000X", intMed}, VisitProblem},
	{"chest pain", []string{"heart palpitations", "irregular heartbeat", "palpitations"}, []string{"207RC0000X", intMed}, VisitProblem},
	{"high blood pressure", []string{"hypertension", "blood pressure"}, []string{"207RC0000X", intMed, famMed, "207RN0300X"}, VisitFollowUp},
	{"high cholesterol", []string{"cholesterol", "lipids"}, []string{"207RC0000X", intMed, famMed}, VisitFollowUp},
	{"diabetes", []string{"high blood sugar", "blood sugar", "prediabetes"}, []string{"207RE0101X", intMed, famMed}, VisitFollowUp},
	{"thyroid", []string{"hypothyroidism", "hyperthyroidism", "goiter"}, []string{"207RE0101X", intMed}, VisitFollowUp},
	{"stomach pain", []string{"abdominal pain", "heartburn", "acid reflux", "indigestion"}, []string{"207RG0100X", intMed, famMed}, VisitProblem},
	{"colonoscopy", []string{"colon cancer screening", "colorectal screening"}, []string{"207RG0100X"}, VisitPreventive},
	{"cough", []string{"shortness of breath", "asthma", "wheezing", "bronchitis"}, []string{"207RP1001X", "207K00000X", famMed, intMed}, VisitProblem},
	{"allergies", []string{"hay fever", "food allergy", "sneezing"}, []string{"207K00000X", "207Y00000X", famMed}, VisitProblem},
	{"sore throat", []string{"sinus infection", "ear infection", "earache", "tonsillitis"}, []string{"207Y00000X", famMed, peds}, VisitProblem},
	{"hearing loss", []string{"ringing in ears", "tinnitus"}, []string{"207Y00000X"}, VisitProblem},
	{"eye exam", []string{"blurry vision", "vision problems", "glaucoma", "cataracts"}, []string{"207W00000X"}, VisitPreventive},
	{"urinary problems", []string{"urinary tract infection", "uti", "frequent urination", "kidney stones"}, []string{"208800000X", "207RN0300X", famMed}, VisitProblem},
	{"kidney disease", []string{"kidney function", "chronic kidney disease"}, []string{"207RN0300X", intMed}, VisitFollowUp},
	{"pregnancy", []string{"prenatal care", "pregnant", "expecting"}, []string{"207VX0000X", "207V00000X", famMed}, VisitNewPatient},
	{"womens health", []string{"pap smear", "gynecology exam", "birth control", "contraception", "menopause"}, []string{"207VG0400X", "207V00000X", famMed}, VisitPreventive},
	{"child checkup", []string{"well child visit", "vaccinations", "immunizations", "kids doctor"}, []string{peds, famMed}, VisitPreventive},
	{"fever", []string{"flu", "cold", "infection"}, []string{famMed, intMed, peds, "207RI0200X"}, VisitProblem},
	{"memory loss", []string{"dementia", "forgetfulness", "alzheimers"}, []string{"2084N0400X", "207RG0300X"}, VisitNewPatient},
	{"cancer", []string{"tumor", "oncology", "chemotherapy"}, []string{"207RX0202X", "207RH0003X"}, VisitNewPatient},
	{"anemia", []string{"low iron", "blood disorder"}, []string{"207RH0003X", intMed}, VisitProblem},
	{"hernia", []string{"gallbladder", "lump"}, []string{"208600000X"}, VisitNewPatient},
}

// Concerns returns the curated health concerns.
func Concerns() []Concern {
	out := make([]Concern, len(concerns))
	for i, c := range concerns {
		c.Synonyms = append([]string(nil), c.Synonyms...)
		c.Specialties = append([]string(nil), c.Specialties...)
		out[i] = c
	}
	return out
}

// concernTerms maps each taxonomy code to the names and synonyms of the
// concerns it treats, for providers' search documents.
var concernTerms = func() map[string][]string {
	m := map[string][]string{}
	for _, c := range concerns {
		for _, code := range c.Specialties {
			m[code] = append(append(m[code], c.Name), c.Synonyms...)
		}
	}
	return m
}()
