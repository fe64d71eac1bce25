// Package carebook composes the default scheduling engine: the tenant,
// scheduling, identity, rbac and audit services over one SQL store
// (PostgreSQL or embedded SQLite), with an injected clock and ID source. Embed it, or use its services one by
// one; the reference server (package refserver) is one client of it.
package carebook

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/tenant"
)

// Config is how to open an Engine. Only cmd/ reads it from flags and the
// environment.
type Config struct {
	// DSN selects the database: "postgres://…" for PostgreSQL, or
	// "sqlite:PATH" (or a path ending in .db) for an embedded SQLite file.
	DSN string
	// Migrate runs the embedded migrations when the engine opens.
	Migrate bool
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
	Clock  clock.Clock
	IDs    clock.IDSource
	Logger *slog.Logger

	identityConfig identity.Config
	store          *sqlstore.Store
	links          *notify.Links
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
	st, err := sqlstore.Open(ctx, cfg.DSN)
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
// owns and closes. An option that fails (WithLinks with a short key) panics
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
	e := &Engine{Clock: clock.System{}, IDs: clock.UUIDv7{}, Logger: slog.New(slog.DiscardHandler), store: st}
	for _, o := range opts {
		o(e)
	}
	e.Notify = e.newNotify(st)
	e.Scheduling = scheduling.NewService(st, st, e.Clock, e.IDs, scheduling.WithObserver(notifyObserver{e.Notify}))
	e.Tenants = tenant.NewService(st, e.Clock, e.IDs, tenant.OnPolicyChange(e.Scheduling.ForgetPolicy))
	e.Identity = identity.NewService(st, e.Clock, e.IDs, e.identityConfig)
	e.RBAC = rbac.NewService(st, st, e.Clock, e.IDs)
	e.Audit = audit.NewService(st, e.Clock, e.IDs)
	return e
}

// Store returns the engine's store, for migrations and adapters.
func (e *Engine) Store() *sqlstore.Store { return e.store }

// Ready reports whether the database answers.
func (e *Engine) Ready(ctx context.Context) error { return e.store.Ping(ctx) }

// Close closes the database.
func (e *Engine) Close() error { return e.store.Close() }

// InTx runs fn in one database transaction, handing it an Engine whose
// Tenants, Scheduling, Identity, RBAC and Audit services work in that
// transaction: what fn writes through them, activity log entries included,
// commits if fn returns nil and rolls back otherwise. The tx Engine has the
// same clock, IDs, logger and identity Config; its Scheduling service caches
// nothing (a cached read may not be what the transaction sees). It and its
// Store must not be used after fn returns, nor closed. Slow work that
// writes nothing (hashing a password: identity's Check and Prepare methods)
// belongs before InTx, so that the transaction is short. Called on an Engine
// already bound to a transaction, InTx runs fn in that transaction.
//
// On PostgreSQL an error inside the transaction aborts it, except a
// conflict of InsertAppointment or UpdateAppointment, which sqlstore
// confines to a savepoint, so that Book can retry another seat.
func (e *Engine) InTx(ctx context.Context, fn func(ctx context.Context, tx *Engine) error) error {
	return e.store.RunInTx(ctx, func(ctx context.Context, st *sqlstore.Store) error {
		return fn(ctx, e.bind(st))
	})
}

// bind returns an Engine whose services work through st, a store bound to
// a transaction (see InTx).
func (e *Engine) bind(st *sqlstore.Store) *Engine {
	tx := &Engine{Clock: e.Clock, IDs: e.IDs, Logger: e.Logger, identityConfig: e.identityConfig, store: st}
	tx.links = e.links
	tx.Notify = e.Notify.Bind(st)
	tx.Scheduling = scheduling.NewService(st, st, e.Clock, e.IDs, scheduling.WithCache(0), scheduling.WithObserver(notifyObserver{tx.Notify}))
	// A policy set in the transaction makes the parent's cache forget the
	// old one (harmless if the transaction then rolls back).
	tx.Tenants = tenant.NewService(st, e.Clock, e.IDs, tenant.OnPolicyChange(e.Scheduling.ForgetPolicy))
	tx.Identity = e.Identity.Bind(st)
	tx.RBAC = e.RBAC.Bind(st, st)
	tx.Audit = e.Audit.Bind(st)
	return tx
}

// CreateGroupWithAdmin creates a group of practices and grants account the
// built-in group administrator role over it, in one transaction: the
// bootstrap of a new tenant, when nobody holds staff.manage there yet to
// grant it. createdBy names the actor (actor.Actor.String) on the grant.
// Whoever calls it decides who may bootstrap; the reference server lets any
// signed-in staff account.
func (e *Engine) CreateGroupWithAdmin(ctx context.Context, name string, account identity.AccountID, createdBy string) (*tenant.Group, *rbac.Grant, error) {
	var (
		g     *tenant.Group
		grant *rbac.Grant
	)
	err := e.store.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
		var err error
		if g, err = tenant.NewService(tx, e.Clock, e.IDs).CreateGroup(ctx, name); err != nil {
			return err
		}
		grant = &rbac.Grant{ID: e.IDs.New(), AccountID: account, RoleID: rbac.GroupAdminID, Scope: rbac.GroupScope(g.ID),
			CreatedAt: e.Clock.Now().UTC().Truncate(time.Microsecond), CreatedBy: createdBy}
		return tx.CreateGrant(ctx, grant)
	})
	if err != nil {
		return nil, nil, err
	}
	return g, grant, nil
}
