package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/ratelimit"
)

// option is one row of the binary's table of options: its flag, its
// environment variable, its line in -h, and the field of the Config it
// sets. A flag overrides its environment variable, which overrides the
// field's value in DefaultConfig.
type option struct {
	flag, env, help string
	// value is the typed destination: stringVar, boolVar, durationVar or
	// levelVar of a Config field.
	value flag.Value
	// emptySets makes an environment variable set to "" set the option
	// (to ""); otherwise an empty variable counts as unset.
	emptySets bool
}

// options is the table of the binary's options, in the order -h lists them,
// each setting its field of cfg.
func options(cfg *Config) []option {
	n := &cfg.Notify
	return []option{
		{flag: "addr", env: "CAREBOOK_ADDR", help: "address to listen on (serve)", value: stringVar(&cfg.Addr)},
		{flag: "dsn", env: "CAREBOOK_DSN", help: "database: postgres://... or sqlite:PATH", value: stringVar(&cfg.DSN)},
		{flag: "migrate", env: "CAREBOOK_MIGRATE", help: "run migrations on start (serve, demo)", value: boolVar(&cfg.Migrate)},
		{flag: "demo", env: "CAREBOOK_DEMO", help: "seed the demo clinic on start unless it exists (serve)", value: boolVar(&cfg.Demo)},
		{flag: "log-level", env: "CAREBOOK_LOG_LEVEL", help: "log level: debug, info, warn or error", value: levelVar(&cfg.LogLevel)},
		{flag: "auth", env: "CAREBOOK_AUTH", help: "authentication: session, or header (trusts X-Carebook-Actor; development only)",
			value: stringVar(&cfg.Auth)},
		{flag: "tls-cert", env: "CAREBOOK_TLS_CERT", help: "PEM certificate file: serve HTTPS (with -tls-key)", value: stringVar(&cfg.TLSCert)},
		{flag: "tls-key", env: "CAREBOOK_TLS_KEY", help: "PEM private key file of -tls-cert", value: stringVar(&cfg.TLSKey)},
		{flag: "audit-archive", env: "CAREBOOK_AUDIT_ARCHIVE",
			help:  "directory for the activity log export; empty turns it off (default: audit-archive beside a SQLite database)",
			value: stringVar(&cfg.AuditArchive), emptySets: true},
		{flag: "audit-export-every", env: "CAREBOOK_AUDIT_EXPORT_EVERY", help: "how often the activity log export runs (serve)",
			value: durationVar(&cfg.AuditExportEvery)},
		{flag: "trials-every", env: "CAREBOOK_TRIALS_EVERY", help: "how often serve ends the trials that ran out (a practice without a card becomes read-only)",
			value: durationVar(&cfg.TrialsEvery)},
		{flag: "billing-every", env: "CAREBOOK_BILLING_EVERY", help: "how often serve closes ended periods into invoices and charges those due, retries included (dunning)",
			value: durationVar(&cfg.BillingEvery)},
		{flag: "master-key-file", env: "CAREBOOK_MASTER_KEY_FILE",
			help:  "master key file sealing patients' data at rest, made if missing (default: PATH.master-key.json beside a SQLite database; required for PostgreSQL)",
			value: stringVar(&cfg.MasterKeyFile)},
		{flag: "files-url", env: "CAREBOOK_FILES_URL",
			help: "bucket of patients' files, encrypted before they leave the process: file:///DIR?create_dir=1, or " +
				"s3://BUCKET?region=R (S3-compatible: &endpoint=URL&use_path_style=true); empty turns files off " +
				"(default: PATH.files/ beside a SQLite database; off for PostgreSQL)",
			value: stringVar(&cfg.FilesURL), emptySets: true},
		{flag: "api-rate-limit", env: "CAREBOOK_API_RATE_LIMIT",
			help:  "API requests each practice may make, across replicas: RATE/PERIOD[,BURST] (such as 600/1m or 1200/1m,200), or off; a practice's plan with its own rate overrides it (serve)",
			value: limitVar(&cfg.APIRateLimit)},
		{flag: "signup", env: "CAREBOOK_SIGNUP", help: "who may sign a clinic up: open, or invite (with a code from refserver signup-code)",
			value: stringVar(&cfg.SignUp)},
		{flag: "email", env: "CAREBOOK_OPERATOR_EMAIL", help: "the support staff member's email (operator-add)",
			value: stringVar(&cfg.OperatorEmail)},
		{flag: "nppes-url", env: "CAREBOOK_NPPES_URL",
			help:  "NPI registry API that practices are verified against (NPPES); empty turns verification off",
			value: stringVar(&cfg.NPPESURL), emptySets: true},
		{flag: "nucc-csv", env: "CAREBOOK_NUCC_CSV",
			help:  "the NUCC's provider taxonomy CSV (nucc_taxonomy_NNN.csv from nucc.org), extending the curated specialties; empty: the curated table alone",
			value: stringVar(&cfg.NUCCCSV)},
		{flag: "trusted-proxies", env: "CAREBOOK_TRUSTED_PROXIES",
			help:  "comma-separated networks (CIDR) of reverse proxies whose X-Forwarded-For names the client (serve)",
			value: stringVar(&cfg.TrustedProxies)},

		{flag: "public-url", env: "CAREBOOK_PUBLIC_URL", help: "public base URL: email links, Twilio signatures, and the canonical URLs and sitemap of the public directory pages (default: the address served)",
			value: stringVar(&n.PublicURL)},
		{flag: "twilio-account-sid", env: "TWILIO_ACCOUNT_SID", help: "Twilio account SID: send SMS through Twilio (else they are logged)",
			value: stringVar(&n.TwilioAccountSID)},
		{flag: "twilio-auth-token", env: "TWILIO_AUTH_TOKEN", help: "Twilio auth token: sends SMS and checks Twilio's webhooks",
			value: stringVar(&n.TwilioAuthToken)},
		{flag: "twilio-from", env: "TWILIO_FROM", help: "default SMS sender number, E.164", value: stringVar(&n.TwilioFrom)},
		{flag: "twilio-base-url", env: "TWILIO_BASE_URL",
			help:  "Twilio API base URL, for a regional edge or a test double; empty is https://api.twilio.com",
			value: stringVar(&n.TwilioBaseURL)},
		{flag: "sendgrid-api-key", env: "SENDGRID_API_KEY", help: "SendGrid API key: send email through SendGrid (else they are logged)",
			value: stringVar(&n.SendGridAPIKey)},
		{flag: "sendgrid-from", env: "SENDGRID_FROM", help: "default email sender address", value: stringVar(&n.SendGridFrom)},
		{flag: "sendgrid-event-key", env: "SENDGRID_EVENT_PUBLIC_KEY", help: "SendGrid signed event webhook verification key (base64)",
			value: stringVar(&n.SendGridEventKey)},
		{flag: "sendgrid-base-url", env: "SENDGRID_BASE_URL",
			help:  "SendGrid API base URL, e.g. https://api.eu.sendgrid.com or a test double; empty is https://api.sendgrid.com",
			value: stringVar(&n.SendGridBaseURL)},
		{flag: "link-key", env: "CAREBOOK_LINK_KEY",
			help:  "base64 key (32+ bytes) signing email links (default: derived from the master key)",
			value: stringVar(&n.LinkKey)},
		{flag: "dispatch-every", env: "CAREBOOK_DISPATCH_EVERY", help: "how often serve sends due messages", value: durationVar(&n.DispatchEvery)},
		{flag: "dispatch-lease", env: "CAREBOOK_DISPATCH_LEASE",
			help:  "how long a replica holds the messages it claimed or is sending before another takes them over",
			value: durationVar(&n.DispatchLease)},
		{flag: "sendgrid-activity-lag", env: "SENDGRID_ACTIVITY_LAG",
			help:  "how long SendGrid's Email Activity may lag a send: an email in doubt it does not show is sent again only after this",
			value: durationVar(&n.SendGridActivityLag)},
	}
}

// parseOptions sets opts from their environment variables, read by
// lookup, then registers their flags on fs and parses args over them. It
// returns the flags of the options set either way. A bad value is an error
// naming the flag and the environment variable.
func parseOptions(fs *flag.FlagSet, opts []option, args []string, lookup func(string) (string, bool)) (map[string]bool, error) {
	set := map[string]bool{}
	for _, o := range opts {
		v, ok := lookup(o.env)
		if !ok || (v == "" && !o.emptySets) {
			continue
		}
		if err := o.value.Set(v); err != nil {
			return nil, o.bad(v, err)
		}
		set[o.flag] = true
	}
	// The flag package words a bad value its own way: the error returned
	// is the option's, naming the environment variable too.
	var bad error
	for _, o := range opts {
		// Registered after the environment, so -h shows the default
		// that applies.
		fs.Var(&optionFlag{o: o, bad: &bad}, o.flag, o.help)
	}
	if err := fs.Parse(args); err != nil {
		if bad != nil {
			return nil, bad
		}
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set, nil
}

// bad is the error of value v for o.
func (o option) bad(v string, err error) error {
	return fmt.Errorf("-%s / %s = %q: %v", o.flag, o.env, v, err)
}

// optionFlag is an option's flag.Value on a FlagSet: its value, keeping the
// option's error of a bad one in *bad.
type optionFlag struct {
	o   option
	bad *error
}

func (f *optionFlag) String() string { return f.o.value.String() }

func (f *optionFlag) Set(s string) error {
	err := f.o.value.Set(s)
	if err != nil {
		*f.bad = f.o.bad(s, err)
	}
	return err
}

// IsBoolFlag lets a boolean option's flag stand alone (-demo).
func (f *optionFlag) IsBoolFlag() bool {
	b, ok := f.o.value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// printOptions writes the -h lines of opts: flag, environment variable,
// help, and the default of fs's flag, unless the help tells it or there is
// none.
func printOptions(w io.Writer, fs *flag.FlagSet, opts []option) {
	flagWidth, envWidth := 0, 0
	for _, o := range opts {
		flagWidth, envWidth = max(flagWidth, len(o.flag)), max(envWidth, len(o.env))
	}
	for _, o := range opts {
		def := ""
		if f := fs.Lookup(o.flag); f.DefValue != "" && !strings.Contains(o.help, "(default") {
			def = fmt.Sprintf(" (default %q)", f.DefValue)
		}
		fmt.Fprintf(w, "  -%-*s %-*s %s%s\n", flagWidth, o.flag, envWidth, o.env, o.help, def)
	}
}

// The typed destinations of options.

type stringValue string

// stringVar is the destination *p of a string option.
func stringVar(p *string) flag.Value { return (*stringValue)(p) }

func (v *stringValue) String() string     { return string(*v) }
func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

type boolValue bool

// boolVar is the destination *p of a boolean option: 1, t, true, 0, f,
// false and their capitals, as strconv.ParseBool reads them.
func boolVar(p *bool) flag.Value { return (*boolValue)(p) }

func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("not a boolean")
	}
	*v = boolValue(b)
	return nil
}

type durationValue time.Duration

// durationVar is the destination *p of a duration option, as
// time.ParseDuration reads it.
func durationVar(p *time.Duration) flag.Value { return (*durationValue)(p) }

func (v *durationValue) String() string { return time.Duration(*v).String() }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration such as 5s or 15m")
	}
	*v = durationValue(d)
	return nil
}

type levelValue slog.Level

// levelVar is the destination *p of a log level option: debug, info, warn
// or error (any case, with an optional offset such as info+2).
func levelVar(p *slog.Level) flag.Value { return (*levelValue)(p) }

func (v *levelValue) String() string { return slog.Level(*v).String() }

func (v *levelValue) Set(s string) error {
	if err := (*slog.Level)(v).UnmarshalText([]byte(s)); err != nil {
		return errors.New("want debug, info, warn or error")
	}
	return nil
}

type limitValue ratelimit.Limit

// limitVar is the destination *p of a rate limit option, as
// ratelimit.ParseLimit reads it.
func limitVar(p *ratelimit.Limit) flag.Value { return (*limitValue)(p) }

func (v *limitValue) String() string { return ratelimit.Limit(*v).String() }

func (v *limitValue) Set(s string) error {
	l, err := ratelimit.ParseLimit("limit", s)
	if err != nil {
		return errors.New(`want RATE/PERIOD[,BURST], such as 600/1m or 1200/1m,200, or off`)
	}
	*v = limitValue(l)
	return nil
}
