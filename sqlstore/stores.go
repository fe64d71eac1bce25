package sqlstore

import (
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// The domain stores. Each is a view of one pool (conn) and keeps one
// domain's tables; its InTx, HasTx and Lock are the pool's, so a
// transaction begun through any of them is the transaction of all of them:
// a booking, its outbox messages and its activity-log entry, written
// through three stores with the context InTx hands out, commit together.
var (
	_ tenant.Store     = (*Tenants)(nil)
	_ scheduling.Store = (*Scheduling)(nil)
	_ identity.Store   = (*Identity)(nil)
	_ rbac.Store       = (*RBAC)(nil)
	_ audit.Store      = (*Audit)(nil)
	_ notify.Store     = (*Notify)(nil)
	_ notify.Outbox    = (*Outbox)(nil)
	_ files.MetaStore  = (*Files)(nil)
	_ keys.Store       = (*Keys)(nil)
	_ ehr.Store        = (*EHR)(nil)
	_ billing.Store    = (*Billing)(nil)
)

// Tenants keeps groups, practices and their locations (tenant.Store).
type Tenants struct{ *conn }

// Scheduling keeps providers, resources, patients, visit types, blocks and
// appointments with their history (scheduling.Store).
type Scheduling struct{ *conn }

// Identity keeps accounts, sessions, MFA, invitations, email verifications
// and API keys (identity.Store).
type Identity struct{ *conn }

// RBAC keeps custom roles and grants (rbac.Store).
type RBAC struct{ *conn }

// Audit keeps the activity log: its entries, each practice's chain head and
// the exports to cold storage (audit.Store).
type Audit struct{ *conn }

// Notify keeps notification settings, templates, patients' preferences and
// consent, the outbox's messages as staff see them, delivery reports and
// the webhook replay memory (notify.Store).
type Notify struct{ *conn }

// Outbox is the dispatcher's side of the outbox: claiming due messages,
// marking them sending, recording results and settling those left in doubt
// (notify.Outbox).
type Outbox struct{ *conn }

// Files keeps the records of patients' files: name, content type, size and
// the opaque key of the encrypted object in the blob bucket
// (files.MetaStore).
type Files struct{ *conn }

// Keys keeps the practices' keysets, wrapped by the master key, and the
// marks of shredded practices (keys.Store).
type Keys struct{ *conn }

// EHR keeps the patients' charts: every version of every entry, append-only
// and its body sealed, and each entry's current version (ehr.Store).
type EHR struct{ *conn }

// Billing keeps visit payments with their append-only ledgers, the
// providers' webhook events, the practices' payment policies and the
// patients' cards on file (billing.Store).
type Billing struct{ *conn }
