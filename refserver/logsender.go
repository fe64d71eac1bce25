package refserver

import (
	"context"
	"log/slog"

	"github.com/carebook/carebook/notify"
)

// LogSender is a notify.Sender that sends nothing: it logs each message on
// one line (channel, to, kind, text) and reports it sent. It stands in for
// Twilio and SendGrid in development, so that `make run` shows in the
// console what patients would receive. It is safe for concurrent use.
type LogSender struct {
	log     *slog.Logger
	channel notify.Channel
}

// NewLogSender returns a LogSender of channel (notify.SMS or notify.Email)
// that logs to log.
func NewLogSender(log *slog.Logger, channel notify.Channel) *LogSender {
	return &LogSender{log: log, channel: channel}
}

// Channel is the channel the LogSender stands in for.
func (s *LogSender) Channel() notify.Channel { return s.channel }

// Send logs out's message and reports it sent, with the outbox ID as the
// provider's ID.
func (s *LogSender) Send(ctx context.Context, out notify.Outgoing) (notify.Receipt, error) {
	m := out.Message
	attrs := []slog.Attr{slog.String("channel", string(m.Channel)), slog.String("to", m.To), slog.String("kind", string(m.Kind))}
	if m.Subject != "" {
		attrs = append(attrs, slog.String("subject", m.Subject))
	}
	attrs = append(attrs, slog.String("text", m.Text), slog.String("id", m.ID.String()))
	s.log.LogAttrs(ctx, slog.LevelInfo, "message (not sent: no provider configured)", attrs...)
	return notify.Receipt{ProviderID: "log-" + m.ID.String(), Status: "logged"}, nil
}
