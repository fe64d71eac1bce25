// Package directory is the public "find a doctor" read model: the one store
// that spans practices rather than being scoped to one. It holds only what
// practices choose to publish (a practice opts in with its Listing, and
// each provider can be hidden): listed providers with their NPI, name,
// specialties (NUCC provider taxonomy codes), languages, whether they accept
// new patients, and the locations they work at with an address, a geo point
// and the visit types offered there.
//
// Patients search it by health concern or specialty words (prefixes match:
// "back pa" finds "back pain"), by a point and a radius (ordered by
// distance), and filter by accepting new patients and language. The curated
// tables of common physician specialties (Specialties, with the NUCC
// attribution, Attribution) and of health concerns (Concerns, with
// synonyms, the specialties that treat each and a default visit kind) turn a
// patient's words into the specialties searched: every provider's search
// document carries the names and synonyms of the concerns its specialties
// treat.
//
// Reads never need a practice: a Search answers across every published
// practice, and nothing that is not published is ever stored.
package directory
