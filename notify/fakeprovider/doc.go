// Package fakeprovider runs local stand-ins for Twilio's and SendGrid's HTTP
// APIs, so that tests (and benchmarks) drive the real twilio-go and
// sendgrid-go SDKs without reaching the internet.
//
// Each fake is an httptest.Server that accepts the calls carebook makes
// (Twilio's Create Message, SendGrid's Mail Send, and the provider's
// records a dispatcher asks to settle a message in doubt: Twilio's list of
// messages, SendGrid's Email Activity), checks the credentials, answers
// like the provider does and records what it accepted. A Faults value,
// shared by both fakes, injects failures (an HTTP status with a provider
// error code for the next N requests), delays (for timeouts) and holds
// (sends that wait on the wire until released, for killing a sender
// mid-send), and counts duplicates: messages accepted twice for the same
// outbox ID.
//
// The package also signs webhook requests the way the providers do:
// SignTwilio computes an X-Twilio-Signature, and an EventSigner signs a
// SendGrid event webhook payload with a fresh ECDSA P-256 key.
//
// Everything here is safe for concurrent use and cheap per request, so a
// dispatcher benchmark can push thousands of messages a second through it.
package fakeprovider
