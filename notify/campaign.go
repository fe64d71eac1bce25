package notify

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Campaign is a discount or promotion sent to every patient of a practice
// who consented to marketing and can be reached on its channel.
type Campaign struct {
	// ID names the campaign; sending the same ID again reaches nobody twice.
	ID      uuid.UUID `json:"id"`
	Channel Channel   `json:"channel"`
	// Text is the offer, rendered as {{.Text}} in the practice's campaign
	// template (which adds the practice's name and how to unsubscribe).
	Text string `json:"text"`
	// TimeZone is where quiet hours are reckoned (IANA name).
	TimeZone string `json:"time_zone"`
	// SendAt is when to send; zero means now. Either moves past quiet hours.
	SendAt time.Time `json:"send_at,omitempty"`
}

// campaignPage is how many recipients SendCampaign writes at once.
const campaignPage = 500

// unsubscribeFor is how long a campaign's unsubscribe link works.
const unsubscribeFor = 90 * 24 * time.Hour

// SendCampaign writes one message per consenting, reachable patient and
// returns how many it wrote. Email carries a signed unsubscribe link; SMS
// tells how to stop (STOP). Pages are written one by one and keyed by
// campaign and patient, so a failed run can simply be repeated.
func (s *Service) SendCampaign(ctx context.Context, practice tenant.PracticeID, c Campaign) (int, error) {
	const op = "notify.SendCampaign"
	switch {
	case c.ID == uuid.Nil:
		return 0, errs.Invalid(op, "id", "is required")
	case c.Channel != SMS && c.Channel != Email:
		return 0, errs.Invalid(op, "channel", "is sms or email")
	case strings.TrimSpace(c.Text) == "" || len(c.Text) > 1000:
		return 0, errs.Invalid(op, "text", "is required, at most 1000 bytes")
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return 0, errs.Invalid(op, "time_zone", "is an IANA time zone such as America/New_York")
	}
	now := s.now()
	at := c.SendAt
	if at.Before(now) {
		at = now
	}
	set, err := s.store.Settings(ctx, practice)
	if err != nil {
		return 0, err
	}
	due := NextSendable(at, loc, set.QuietStart, set.QuietEnd)
	total := 0
	var after uuid.UUID
	// The practice's name and its templates are read once per campaign.
	memo := newTemplateMemo()
	var name string
	if s.practiceName != nil {
		if name, err = s.practiceName(ctx, practice); err != nil {
			return 0, err
		}
	}
	for {
		rs, err := s.store.MarketingAudience(ctx, practice, c.Channel, after, campaignPage)
		if err != nil {
			return total, err
		}
		if len(rs) == 0 {
			return total, nil
		}
		msgs := make([]*Message, 0, len(rs))
		for _, r := range rs {
			m, err := s.campaignMessage(ctx, memo, practice, name, c, r, due)
			if err != nil {
				return total, err
			}
			msgs = append(msgs, m)
		}
		n, err := s.enqueue(ctx, practice, true, msgs...)
		total += n
		if err != nil {
			return total, err
		}
		after = rs[len(rs)-1].PatientID
	}
}

// campaignMessage renders c for one recipient of the practice named name.
func (s *Service) campaignMessage(ctx context.Context, memo *templateMemo, practice tenant.PracticeID, name string, c Campaign, r Recipient, due time.Time) (*Message, error) {
	d := TemplateData{Practice: name, Patient: PatientName{r.GivenName, r.FamilyName}, Text: c.Text}
	if c.Channel == Email && s.links != nil {
		d.UnsubscribeURL = s.links.URL(Link{Action: LinkUnsubscribe, Practice: practice, Subject: r.PatientID,
			Nonce: s.ids.New(), Expires: due.Add(unsubscribeFor)})
	}
	m, err := s.render(ctx, memo, practice, KindCampaign, c.Channel, r.Language, d)
	if err != nil {
		return nil, err
	}
	pid := r.PatientID
	m.Key, m.DueAt, m.PatientID = "campaign:"+c.ID.String()+":"+pid.String()+":"+string(c.Channel), due, &pid
	m.To = r.Phone
	if c.Channel == Email {
		m.To = r.Email
	}
	return m, nil
}
