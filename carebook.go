// Package carebook composes the default scheduling engine: the tenant,
// scheduling, identity, rbac and audit services over one SQL store
// (PostgreSQL or embedded SQLite), with an injected clock and ID source. Embed it, or use its services one by
// one; the reference server (package refserver) is one client of it.
package carebook

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/kyc"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/tenant"
	"gocloud.dev/blob"
)

// Config is how to open an Engine. Only cmd/ reads it from flags and the
// environment.
type Config struct {
	// DSN selects the database: "postgres://…" for PostgreSQL, or
	// "sqlite:PATH" (or a path ending in .db) for an embedded SQLite file.
	DSN string
	// Migrate runs the embedded migrations when the engine opens.
	Migrate bool
	// MasterKey wraps the practices' keys, which seal protected health
	// information at rest: patients' names and contact details, message
	// bodies, TOTP secrets. Required. keys.OpenFile keeps one in a local
	// file (back it up with the database: without it nothing sealed can
	// be read again); production uses a KMS-backed keys.Provider.
	MasterKey keys.Provider
}

// Engine is carebook with its default adapters. Its services are safe for
// concurrent use; several Engines may share one process or one database.
type Engine struct {
	Tenants    *tenant.Service
	Scheduling *scheduling.Service
	// Identity signs accounts in: passwords, sessions, MFA, invitations,
	// API keys.
	Identity *identity.Service
	// RBAC holds roles and grants and answers authorization questions.
	RBAC *rbac.Service
	// Audit is the activity log of every practice.
	Audit *audit.Service
	// Notify writes messages to the outbox (in the transaction of the
	// appointment change that causes them) and answers patients' replies.
	Notify *notify.Service
	// Keys seals what the Engine keeps of protected health information and
	// rotates or shreds each practice's keys; nil when the store was opened
	// without a master key (NewWithStore), and then nothing sealed can be
	// written or read.
	Keys *keys.Service
	// Files keeps patients' files, encrypted (WithFiles); nil without a
	// bucket. Read and write them through the guarded PutFile, OpenFile,
	// PatientFiles and DeleteFile.
	Files *files.Store
	// Billing takes visit payments through their adapters and keeps their
	// ledgers; read and write them through the guarded TakeDeskPayment,
	// RefundPayment, Payments and the rest (payments.go).
	Billing *billing.Service
	// RateLimits decides rate-limited events across replicas, on the
	// database's counts (see AllowAPIRequest).
	RateLimits *ratelimit.Limiter
	// Taxonomy names providers' specialties (NUCC taxonomy codes): the
	// curated table unless WithTaxonomy gave the operator's NUCC file. It
	// never changes, so it is safe to share.
	Taxonomy *directory.Taxonomy
	Clock    clock.Clock
	IDs      clock.IDSource
	Logger   *slog.Logger

	identityConfig identity.Config
	observers      []scheduling.Observer
	payAdapters    map[string]billing.Adapter
	dunning        billing.Dunning
	registry       kyc.Registry
	signUp         SignUpMode
	store          *sqlstore.Store
	links          *notify.Links
	filesBucket    *blob.Bucket
	filesOpts      files.Options
	exportOpts     ExportOptions
	practiceLimits PracticeLimits
	// writableAt holds, per practice (tenant.PracticeID), when the guard
	// last found it writable (time.Time of the engine's clock; see
	// readOnlyState).
	writableAt sync.Map
	// deriveLinks, set by WithLinks(nil, linksURL), signs links with a key
	// derived from the master key.
	deriveLinks bool
	linksURL    string
	// optErr is an option's error, returned by New.
	optErr error
}

// Option changes how New builds an Engine.
type Option func(*Engine)

// WithClock sets the clock every service reads; the default is the system clock.
func WithClock(c clock.Clock) Option { return func(e *Engine) { e.Clock = c } }

// WithIDSource sets the source of new IDs; the default makes UUIDv7s.
func WithIDSource(s clock.IDSource) Option { return func(e *Engine) { e.IDs = s } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.Logger = l } }

// WithIdentityConfig sets the identity service's tunables (password hashing
// cost, lockouts, token lifetimes); the zero Config takes identity's
// defaults. Tests lower the hashing cost with it.
func WithIdentityConfig(c identity.Config) Option { return func(e *Engine) { e.identityConfig = c } }

// New opens the database named by cfg.DSN, migrates it if asked, and wires
// the services.
func New(ctx context.Context, cfg Config, opts ...Option) (*Engine, error) {
	if cfg.DSN == "" {
		return nil, errors.New("carebook: Config.DSN is required")
	}
	if cfg.MasterKey == nil {
		return nil, errors.New("carebook: Config.MasterKey is required: it seals patients' data at rest (keys.OpenFile keeps one in a local file)")
	}
	st, err := sqlstore.Open(ctx, cfg.DSN, sqlstore.WithMasterKey(cfg.MasterKey))
	if err != nil {
		return nil, err
	}
	if cfg.Migrate {
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	e := wire(st, opts...)
	if e.optErr != nil {
		st.Close()
		return nil, e.optErr
	}
	return e, nil
}

// NewWithStore wires the services over an open store, which the Engine then
// owns and closes; the store's master key (sqlstore.WithMasterKey) seals
// what the Engine writes. An option that fails (WithLinks with a short key) panics
// here; New returns its error instead.
func NewWithStore(st *sqlstore.Store, opts ...Option) *Engine {
	e := wire(st, opts...)
	if e.optErr != nil {
		panic(e.optErr)
	}
	return e
}

// wire builds an Engine over st; an option's error is left in optErr.
func wire(st *sqlstore.Store, opts ...Option) *Engine {
	e := &Engine{Clock: clock.System{}, IDs: clock.UUIDv7{}, Logger: slog.New(slog.DiscardHandler), store: st, Keys: st.Sealer(),
		Taxonomy: directory.DefaultTaxonomy()}
	for _, o := range opts {
		o(e)
	}
	if e.identityConfig.Keys == nil && e.Keys != nil {
		e.identityConfig.Keys = e.Keys
	}
	if e.deriveLinks && e.optErr == nil {
		e.links, e.optErr = derivedLinks(e.Keys, e.linksURL)
	}
	e.Notify = e.newNotify(st)
	e.Billing = billing.NewService(st.Billing, e.Clock, e.IDs, e.paymentAdapter, billing.WithRecorder(e.paymentRecorded))
	observers := []scheduling.Option{scheduling.WithObserver(notifyObserver{e.Notify}), scheduling.WithObserver(feeObserver{e}), scheduling.WithObserver(usageObserver{e}),
		scheduling.WithObserver(directoryObserver{e}), scheduling.WithBlockObserver(directoryObserver{e}), scheduling.WithLateCancel(e.lateCancel)}
	for _, o := range e.observers {
		observers = append(observers, scheduling.WithObserver(o))
	}
	e.Scheduling = scheduling.NewService(st.Scheduling, st.Tenants, e.Clock, e.IDs, observers...)
	e.Tenants = tenant.NewService(st.Tenants, e.Clock, e.IDs, tenant.OnPolicyChange(e.Scheduling.ForgetPolicy),
		tenant.WithPolicyObserver(directoryObserver{e}))
	e.Identity = identity.NewService(st.Identity, e.Clock, e.IDs, e.identityConfig)
	e.RBAC = rbac.NewService(st.RBAC, st.Tenants, e.Clock, e.IDs)
	e.Audit = audit.NewService(st.Audit, e.Clock, e.IDs)
	e.RateLimits = ratelimit.New(st.RateLimits, e.Clock)
	if e.Keys != nil {
		e.Keys.OnUnreadable(e.recordUnreadable)
		if e.filesBucket != nil {
			if e.filesOpts.Clock == nil {
				e.filesOpts.Clock = e.Clock
			}
			if e.filesOpts.IDs == nil {
				e.filesOpts.IDs = e.IDs
			}
			e.Files = files.New(e.filesBucket, e.Keys, st.Files, e.filesOpts)
		}
	}
	return e
}

// WithObserver adds o to the observers of appointment changes: it hears of
// every booking, reschedule, move and status change in the change's
// transaction (ctx carries it), after the outbox has taken the change's
// messages, so that what it writes with ctx commits or rolls back with the
// change; its error undoes the change. Billing and the directory hear of
// appointments this way.
func WithObserver(o scheduling.Observer) Option {
	return func(e *Engine) { e.observers = append(e.observers, o) }
}

// Store returns the engine's store, for migrations and adapters.
func (e *Engine) Store() *sqlstore.Store { return e.store }

// Ready reports whether the database answers.
func (e *Engine) Ready(ctx context.Context) error { return e.store.Ping(ctx) }

// Close closes the database.
func (e *Engine) Close() error { return e.store.Close() }

// InTx runs fn in one database transaction, carried in the context fn
// receives: whatever fn does through the Engine's services with that
// context (or one derived from it), activity-log entries and outbox
// messages included, commits if fn returns nil and rolls back otherwise.
// Called with a context that already carries the engine's transaction, it
// runs fn in that one. Caches are passed by inside a transaction (a read
// there may be the transaction's own write). Slow work that writes nothing
// (hashing a password: identity's Check and Prepare methods) belongs
// before InTx, so that the transaction is short.
//
// On PostgreSQL an error inside the transaction aborts it, except a
// conflict of InsertAppointment or UpdateAppointment, which sqlstore
// confines to a savepoint, so that Book can retry another seat.
func (e *Engine) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return e.store.InTx(ctx, fn)
}

// CreateGroupWithAdmin creates a group of practices and grants account the
// built-in group administrator role over it, in one transaction: the
// bootstrap of a new tenant, when nobody holds staff.manage there yet to
// grant it. ctx's actor is recorded as the grant's CreatedBy. Whoever
// calls it decides who may bootstrap; the reference server lets any
// signed-in staff account.
func (e *Engine) CreateGroupWithAdmin(ctx context.Context, name string, account identity.AccountID) (*tenant.Group, *rbac.Grant, error) {
	var (
		g     *tenant.Group
		grant *rbac.Grant
	)
	err := e.InTx(ctx, func(ctx context.Context) error {
		var err error
		if g, err = e.Tenants.CreateGroup(ctx, name); err != nil {
			return err
		}
		grant, err = e.RBAC.GrantAsSystem(ctx, rbac.NewGrant{AccountID: account, RoleID: rbac.GroupAdminID, Scope: rbac.GroupScope(g.ID)})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return g, grant, nil
}

// linksPurpose names the link-signing key derived from the master key;
// changing it invalidates every link already sent.
const linksPurpose = "notify.links/v1"

// derivedLinks returns the link signer of baseURL with the key derived from
// k's platform scope.
func derivedLinks(k *keys.Service, baseURL string) (*notify.Links, error) {
	if k == nil {
		return nil, errors.New("carebook: WithLinks(nil, …) derives the link key from the master key, and the store has none")
	}
	key, err := k.DeriveKey(context.Background(), keys.Platform, linksPurpose, 32)
	if err != nil {
		return nil, err
	}
	return notify.NewLinks(key, baseURL)
}
