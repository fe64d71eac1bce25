package ehr

import (
	"slices"
	"strings"
)

// VitalSign is a vital sign a Vital may record: its LOINC code's name and
// the UCUM units it is measured in, each with the range a living human can
// show in that unit (wider than any normal range: it refuses typing
// mistakes, such as a weight in grams entered as kilograms, not unusual
// patients).
type VitalSign struct {
	Name  string
	Units map[string]Range
}

// Range is the closed interval of plausible values.
type Range struct{ Min, Max float64 }

// VitalSigns are the signs of FHIR's vital-signs profile (and US Core's),
// by LOINC code.
var VitalSigns = map[string]VitalSign{
	"8867-4":  {"heart rate", map[string]Range{"/min": {20, 300}}},
	"9279-1":  {"respiratory rate", map[string]Range{"/min": {2, 100}}},
	"8480-6":  {"systolic blood pressure", map[string]Range{"mm[Hg]": {40, 300}}},
	"8462-4":  {"diastolic blood pressure", map[string]Range{"mm[Hg]": {15, 200}}},
	"8310-5":  {"body temperature", map[string]Range{"Cel": {25, 45}, "[degF]": {77, 113}}},
	"29463-7": {"body weight", map[string]Range{"kg": {0.2, 700}, "g": {200, 700_000}, "[lb_av]": {0.4, 1_550}}},
	"8302-2":  {"body height", map[string]Range{"cm": {20, 275}, "[in_i]": {8, 108}}},
	"59408-5": {"oxygen saturation by pulse oximetry", map[string]Range{"%": {40, 100}}},
	"39156-5": {"body mass index", map[string]Range{"kg/m2": {5, 200}}},
	"9843-4":  {"head circumference", map[string]Range{"cm": {15, 80}, "[in_i]": {6, 32}}},
}

// unitList is the sign's units, sorted, for a message.
func (s VitalSign) unitList() string {
	units := make([]string, 0, len(s.Units))
	for u := range s.Units {
		units = append(units, u)
	}
	slices.Sort(units)
	return strings.Join(units, ", ")
}
