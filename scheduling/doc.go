// Package scheduling is carebook's scheduling domain: providers (with
// their NPI), rooms and equipment, patients, visit types (duration,
// buffers, step, audience, required resources), availability blocks with
// their recurrence (RRULE, exceptions and one-day overrides), the open-slot
// search, and appointments with their statuses (new, confirmed, arrived,
// out, canceled, no-visit), history and rules: no double booking, the
// practice's booking policy, new and established patients.
//
// Service enforces the rules over a Store (package sqlstore implements it
// on PostgreSQL and SQLite; scheduling/schedtest is the conformance suite
// every Store runs). Observers hear of every appointment change, and block
// observers of every availability block change, in the transaction of the
// change.
package scheduling
