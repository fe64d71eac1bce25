// Package notify sends a practice's messages to patients and staff: appointment
// confirmations, reminders, cancellations and follow-ups by SMS, email and the
// front desk inbox, and campaigns to patients who opted in.
//
// Messages go through a transactional outbox. The change that causes a
// message (a booking, a cancellation) writes it in the same database
// transaction, rendered from the practice's template; a Dispatcher, run by
// gocron on any number of replicas, claims due messages in batches, hands them
// to a Sender per channel, and records what the provider answered. Every
// message carries an idempotency key unique within its practice, so a retry,
// a restart or a second replica never writes or sends it twice.
//
// Senders are small adapters: notify/twilio (SMS) and notify/sendgrid (email)
// ship with carebook; an integrator can add another by implementing Sender.
package notify
