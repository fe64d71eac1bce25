package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // availability is expanded in IANA zones, whatever the host has

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/carebook/carebook/nppes"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/refserver/api"
	"github.com/carebook/carebook/refserver/web"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/tenant"
	"github.com/go-co-op/gocron/v2"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"gocloud.dev/blob"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	m.LookupEnv = os.LookupEnv
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		m.Close()
		os.Exit(1)
	}
	err := m.Wait(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(1)
	}
}

// The subcommands.
const (
	cmdServe   = "serve"
	cmdMigrate = "migrate"
	cmdDemo    = "demo"
	// cmdSignUpCode issues the operator's invitation to sign a clinic
	// up (for -signup invite) and prints it; its arguments are the note.
	cmdSignUpCode = "signup-code"
	// cmdOperatorAdd adds a member of the operator's support staff (-email)
	// and prints their one-time password.
	cmdOperatorAdd = "operator-add"
)

// Config is the whole configuration of the binary, as plain data.
type Config struct {
	Command  string     // serve, migrate, demo, signup-code or operator-add
	Addr     string     // CAREBOOK_ADDR: where serve listens
	DSN      string     // CAREBOOK_DSN: the database
	Migrate  bool       // CAREBOOK_MIGRATE: migrate on start (serve, demo)
	Demo     bool       // CAREBOOK_DEMO: seed the demo clinic on start (serve)
	LogLevel slog.Level // CAREBOOK_LOG_LEVEL: debug, info, warn or error
	Auth     string     // CAREBOOK_AUTH: header (development) or session
	TLSCert  string     // CAREBOOK_TLS_CERT: PEM certificate (chain) file; serve over TLS with TLSKey
	TLSKey   string     // CAREBOOK_TLS_KEY: PEM private key file of TLSCert
	// AuditArchive (CAREBOOK_AUDIT_ARCHIVE) is the directory serve exports
	// closed days of the activity log to; "" turns the export off. Unset,
	// it is "audit-archive" beside a SQLite database, and off for Postgres.
	AuditArchive string
	// AuditExportEvery (CAREBOOK_AUDIT_EXPORT_EVERY) is how often the export
	// job runs.
	AuditExportEvery time.Duration
	// TrialsEvery (CAREBOOK_TRIALS_EVERY) is how often the trial job ends
	// the trials that ran out (carebook.TrialJobName).
	TrialsEvery time.Duration
	// BillingEvery (CAREBOOK_BILLING_EVERY) is how often the billing job
	// closes the ended periods into invoices and charges those due, dunning
	// included (carebook.BillingJobName).
	BillingEvery time.Duration
	// Notify is how messages are sent and the providers' webhooks checked.
	Notify NotifyConfig
	// APIRateLimit (CAREBOOK_API_RATE_LIMIT) is how many API requests
	// each practice may make (carebook.FixedLimits), counted in the
	// database across replicas; the Off limit ("off") turns it off.
	APIRateLimit ratelimit.Limit
	// TrustedProxies (CAREBOOK_TRUSTED_PROXIES) lists, comma-separated, the
	// networks (CIDR) or addresses of the reverse proxies whose
	// X-Forwarded-For serve believes; "" believes none.
	TrustedProxies string
	// MasterKeyFile (CAREBOOK_MASTER_KEY_FILE) is the file of the master
	// key (a tink keyset in JSON, see keys.OpenFile) that wraps the keys
	// sealing protected health information at rest. Unset, serve and demo
	// use PATH.master-key.json beside a SQLite database, made on first
	// start; PostgreSQL requires it.
	MasterKeyFile string
	// FilesURL (CAREBOOK_FILES_URL) is the bucket of patients' files
	// (files.OpenBucket: "file:///dir?create_dir=1" or "s3://bucket?…"),
	// which serve keeps encrypted with each practice's file key; "" turns
	// files off (their routes answer 404). Unset, it is the directory
	// PATH.files/ beside a SQLite database file, and off for PostgreSQL and
	// an in-memory database.
	FilesURL string
	// SignUp (CAREBOOK_SIGNUP) is who may sign a clinic up: "open" (the
	// default) or "invite" (with a code from refserver signup-code).
	SignUp string
	// NPPESURL (CAREBOOK_NPPES_URL) is the NPI registry's API that
	// practices are verified against (nppes.DefaultBaseURL unless set);
	// "" turns verification off, and then no practice can become
	// verified for online payments.
	NPPESURL string
	// NUCCCSV (CAREBOOK_NUCC_CSV) is the NUCC's Health Care Provider
	// Taxonomy CSV the operator obtained (nucc_taxonomy_NNN.csv), whose
	// codes extend the curated table of specialties (carebook.WithTaxonomy);
	// "" keeps the curated table alone. A file with a bad row stops the
	// start, naming its line and column.
	NUCCCSV string
	// note is signup-code's note: its arguments.
	note string
	// OperatorEmail (CAREBOOK_OPERATOR_EMAIL) is the email of the support
	// staff member operator-add adds.
	OperatorEmail string
}

// Authentication modes of serve.
const (
	// authHeader trusts the X-Carebook-Actor header: development only.
	authHeader = "header"
	// authSession requires a session token, API key or session cookie.
	authSession = "session"
)

// DefaultAPIRateLimit is each practice's API limit unless
// -api-rate-limit says otherwise: 20 requests a second on average, in
// bursts of up to 200.
var DefaultAPIRateLimit = ratelimit.Limit{Rate: 1200, Period: time.Minute, Burst: 200}

// DefaultConfig is the configuration when neither flags nor environment say
// otherwise.
func DefaultConfig() Config {
	return Config{Command: cmdServe, SignUp: string(carebook.SignUpOpen), NPPESURL: nppes.DefaultBaseURL, Addr: "127.0.0.1:8080", DSN: "sqlite:carebook.db", Migrate: true, LogLevel: slog.LevelInfo, Auth: authSession,
		APIRateLimit: DefaultAPIRateLimit, AuditArchive: "audit-archive", AuditExportEvery: carebook.DefaultAuditExportEvery,
		TrialsEvery: carebook.DefaultTrialsEvery, BillingEvery: carebook.DefaultBillingEvery, Notify: NotifyConfig{DispatchEvery: carebook.DefaultDispatchEvery, DispatchLease: 2 * time.Minute,
			SendGridActivityLag: sendgrid.DefaultActivityLag}}
}

// Main is the program: ParseFlags reads the configuration, Run opens the
// engine and starts the command, Wait blocks while serve serves, and Close
// shuts everything down. Tests drive it as main does.
type Main struct {
	Config Config
	// Stdout receives what the user is told (the URL served, the demo
	// practice); Stderr receives logs and usage.
	Stdout, Stderr io.Writer
	// Getenv reads the environment; os.Getenv by default.
	Getenv func(string) string
	// LookupEnv, when set, reads the environment instead of Getenv, telling
	// a variable set empty from an unset one (CAREBOOK_AUDIT_ARCHIVE=""
	// turns the export off). When nil, Getenv is read and an empty variable
	// counts as unset.
	LookupEnv func(string) (string, bool)

	engine       *carebook.Engine
	logger       *slog.Logger
	url          string
	demoPractice tenant.PracticeID
	stopServe    context.CancelFunc
	served       chan error
	// scheduler runs the activity log export and the outbox dispatch while
	// serve serves; exporter and dispatcher are their jobs' workers.
	scheduler  gocron.Scheduler
	exporter   *audit.Exporter
	dispatcher *notify.Dispatcher
	// files is serve's bucket of patients' files, nil when they are off;
	// closed after the engine.
	files *blob.Bucket
}

// NewMain returns a Main with the default configuration on the process's
// standard streams and environment.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// ParseFlags reads the subcommand and flags from args (without the program
// name), each flag defaulting to its environment variable and then to
// DefaultConfig, as the table of options says. It returns flag.ErrHelp
// after printing usage for -h.
func (m *Main) ParseFlags(args []string) error {
	cfg := DefaultConfig()
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case cmdServe, cmdMigrate, cmdDemo, cmdSignUpCode, cmdOperatorAdd:
			cfg.Command, args = args[0], args[1:]
		default:
			return fmt.Errorf("unknown command %q; want serve, migrate, demo, signup-code or operator-add", args[0])
		}
	}
	opts := options(&cfg)
	fs := flag.NewFlagSet("refserver", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { usage(fs, opts) }
	set, err := parseOptions(fs, opts, args, m.lookupEnv())
	if err != nil {
		return err
	}
	if fs.NArg() > 0 && cfg.Command == cmdSignUpCode {
		cfg.note = strings.Join(fs.Args(), " ")
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Command == cmdOperatorAdd && strings.TrimSpace(cfg.OperatorEmail) == "" {
		return errors.New("operator-add needs -email (or CAREBOOK_OPERATOR_EMAIL)")
	}
	if cfg.DSN == "" {
		return errors.New("the DSN is empty; set -dsn or CAREBOOK_DSN")
	}
	if _, err := sqlstore.ParseDSN(cfg.DSN); err != nil {
		return fmt.Errorf("-dsn / CAREBOOK_DSN: %w", err)
	}
	if cfg.SignUp != string(carebook.SignUpOpen) && cfg.SignUp != string(carebook.SignUpInvite) {
		return fmt.Errorf("-signup / CAREBOOK_SIGNUP = %q; want open or invite", cfg.SignUp)
	}
	if cfg.Auth != authHeader && cfg.Auth != authSession {
		return fmt.Errorf("-auth / CAREBOOK_AUTH = %q; want header or session", cfg.Auth)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return errors.New("-tls-cert and -tls-key (CAREBOOK_TLS_CERT, CAREBOOK_TLS_KEY) go together")
	}
	if _, err := refserver.ParseTrustedProxies("trusted_proxies", cfg.TrustedProxies); err != nil {
		return fmt.Errorf("-trusted-proxies / CAREBOOK_TRUSTED_PROXIES: %w", err)
	}
	for _, iv := range []struct {
		every     time.Duration
		flag, env string
	}{
		{cfg.AuditExportEvery, "audit-export-every", "CAREBOOK_AUDIT_EXPORT_EVERY"},
		{cfg.TrialsEvery, "trials-every", "CAREBOOK_TRIALS_EVERY"},
		{cfg.BillingEvery, "billing-every", "CAREBOOK_BILLING_EVERY"},
	} {
		if iv.every <= 0 {
			return fmt.Errorf("-%s / %s = %v; want a positive duration", iv.flag, iv.env, iv.every)
		}
	}
	if err := cfg.Notify.check(); err != nil {
		return err
	}
	if !set["audit-archive"] {
		cfg.AuditArchive = defaultArchive(cfg.DSN)
	}
	if !set["files-url"] {
		var err error
		if cfg.FilesURL, err = defaultFilesURL(cfg.DSN); err != nil {
			return err
		}
	} else if err := checkFilesURL(cfg.FilesURL); err != nil {
		return fmt.Errorf("-files-url / CAREBOOK_FILES_URL = %q: %w", cfg.FilesURL, err)
	}
	m.Config = cfg
	return nil
}

// defaultArchive is where the activity log is exported when nothing says:
// "audit-archive" beside a SQLite database file, nowhere for Postgres.
func defaultArchive(dsn string) string {
	dir := sqliteDir(dsn)
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "audit-archive")
}

// defaultFilesURL is where patients' files are kept when nothing says:
// the directory PATH.files/ beside a SQLite database file (made on first
// start), nowhere for PostgreSQL and in-memory databases.
func defaultFilesURL(dsn string) (string, error) {
	d, err := sqlstore.ParseDSN(dsn)
	if err != nil || d.Dialect != sqlstore.SQLite || d.InMemory() {
		return "", nil
	}
	dir, err := filepath.Abs(d.Path + filesSuffix)
	if err != nil {
		return "", fmt.Errorf("the directory of patients' files beside %s: %w", d.Path, err)
	}
	return fileURL(dir), nil
}

// filesSuffix names the directory of patients' files beside a SQLite
// database.
const filesSuffix = ".files"

// fileURL is the file:// bucket URL of the absolute directory dir, made
// on first use. Every character of the path is escaped as a URL needs
// ("#", "?", "%" and spaces stay part of the path).
func fileURL(dir string) string {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: file:///C:/...
	}
	return (&url.URL{Scheme: "file", Path: p, RawQuery: "create_dir=1"}).String()
}

// checkFilesURL refuses a -files-url that names no bucket files.OpenBucket
// opens: "" (files off) is fine, else a file:// or s3:// URL.
func checkFilesURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return err
	case u.Scheme != "file" && u.Scheme != "s3":
		return errors.New("want file:///DIR?create_dir=1 or s3://BUCKET?region=…")
	case u.Scheme == "file" && u.Path == "":
		return errors.New("a file:// URL needs an absolute directory: file:///DIR")
	case u.Scheme == "s3" && u.Host == "":
		return errors.New("an s3:// URL needs a bucket: s3://BUCKET")
	}
	return nil
}

// sqliteDir is the directory of a SQLite database file, "" for PostgreSQL
// and in-memory databases.
func sqliteDir(dsn string) string {
	d, err := sqlstore.ParseDSN(dsn)
	if err != nil || d.Dialect != sqlstore.SQLite || d.InMemory() {
		return ""
	}
	return filepath.Dir(d.Path)
}

// masterKey returns the master key and where it came from:
// -master-key-file (made there if missing); else, for a SQLite database
// file, PATH.master-key.json beside it, made on first start; else, for an
// in-memory SQLite database, a key made for this run. PostgreSQL without
// -master-key-file is an error: a key made up here would be lost, and
// every sealed value with it.
func masterKey(cfg Config) (keys.Provider, string, error) {
	file := cfg.MasterKeyFile
	if file == "" {
		dsn, err := sqlstore.ParseDSN(cfg.DSN)
		if err != nil {
			return nil, "", err
		}
		switch {
		case dsn.Dialect != sqlstore.SQLite:
			return nil, "", errors.New("PostgreSQL needs -master-key-file or CAREBOOK_MASTER_KEY_FILE: the master key file (made there on first start), kept and backed up apart from the database")
		case dsn.InMemory():
			h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
			if err != nil {
				return nil, "", err
			}
			p, err := keys.NewStatic(h)
			return p, "made for this in-memory run", err
		}
		file = dsn.Path + masterKeySuffix
	}
	p, err := keys.OpenFile(file)
	if err != nil {
		return nil, "", fmt.Errorf("the master key file: %w", err)
	}
	return p, file, nil
}

// masterKeySuffix names the master key file beside a SQLite database.
const masterKeySuffix = ".master-key.json"

// lookupEnv returns how ParseFlags reads the environment: LookupEnv, else
// Getenv (os.Getenv when nil) with an empty variable unset.
func (m *Main) lookupEnv() func(string) (string, bool) {
	if m.LookupEnv != nil {
		return m.LookupEnv
	}
	getenv := m.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	}
}

// usage prints -h: the commands, and the options' table.
func usage(fs *flag.FlagSet, opts []option) {
	w := fs.Output()
	fmt.Fprint(w, `Usage: refserver [serve|migrate|demo|signup-code|operator-add] [flags]

Commands:
  serve    serve the API until SIGINT or SIGTERM (default)
  migrate  run the database migrations and exit
  demo     migrate, seed the demo clinic unless it exists, and exit
  signup-code [note]
           issue an invitation to sign one clinic up (-signup invite), print it, and exit
  operator-add -email EMAIL
           add a member of the operator's support staff (the /ops/ panel), print their
           one-time password, and exit

Flags (each falls back to its environment variable):
`)
	printOptions(w, fs, opts)
}

// Run opens the engine and runs the command. For serve it returns once the
// server listens (its URL printed on Stdout), leaving it to serve until
// Close or until ctx is done.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	m.logger = logger
	migrate := cfg.Migrate || cfg.Command == cmdMigrate
	engineOpts := []carebook.Option{carebook.WithLogger(logger), carebook.WithPlanLimits(cfg.APIRateLimit),
		carebook.WithSignUp(carebook.SignUpMode(cfg.SignUp))}
	if cfg.NUCCCSV != "" {
		tx, err := carebook.LoadTaxonomyFile(cfg.NUCCCSV)
		if err != nil {
			return fmt.Errorf("-nucc-csv / CAREBOOK_NUCC_CSV: %w", err)
		}
		logger.Info("provider taxonomy loaded", "nucc_csv", cfg.NUCCCSV, "codes", tx.Len())
		engineOpts = append(engineOpts, carebook.WithTaxonomy(tx))
	}
	if cfg.NPPESURL != "" {
		reg, err := nppes.New(nppes.Config{BaseURL: cfg.NPPESURL})
		if err != nil {
			return fmt.Errorf("-nppes-url / CAREBOOK_NPPES_URL: %w", err)
		}
		engineOpts = append(engineOpts, carebook.WithNPIRegistry(reg))
	}
	// serve listens first: the address served is the default public URL,
	// which email links point at.
	var ln net.Listener
	tlsOn := false
	if cfg.Command == cmdServe {
		var err error
		if ln, tlsOn, err = m.listen(); err != nil {
			return err
		}
	}
	publicURL := cfg.Notify.PublicURL
	if publicURL == "" {
		publicURL = m.url
	}
	if cfg.Command != cmdMigrate {
		key, err := m.linkKey()
		if err != nil {
			closeListener(ln)
			return err
		}
		engineOpts = append(engineOpts, carebook.WithLinks(key, publicURL))
	}
	master, from, err := masterKey(cfg)
	if err != nil {
		closeListener(ln)
		return err
	}
	logger.Info("protected health information is sealed at rest", "master_key", from)
	if cfg.Command == cmdServe {
		if err := m.openFiles(ctx); err != nil {
			closeListener(ln)
			return err
		}
		if m.files != nil {
			engineOpts = append(engineOpts, carebook.WithFiles(m.files, files.Options{}))
		}
	}
	e, err := carebook.New(ctx, carebook.Config{DSN: cfg.DSN, Migrate: migrate, MasterKey: master}, engineOpts...)
	if err != nil {
		closeListener(ln)
		m.closeFiles()
		return fmt.Errorf("open %s: %w", redact(cfg.DSN), err)
	}
	m.engine = e
	switch cfg.Command {
	case cmdMigrate:
		fmt.Fprintln(m.Stdout, "carebook: migrations applied")
		return nil
	case cmdDemo:
		return m.seed(ctx)
	case cmdSignUpCode:
		code, err := e.IssueSignUpCode(ctx, cfg.note)
		if err != nil {
			return err
		}
		// Shown once: the database keeps only its hash.
		fmt.Fprintf(m.Stdout, "carebook sign-up invitation: %s\n", code)
		return nil
	case cmdOperatorAdd:
		op, pw, err := e.AddOperator(ctx, cfg.OperatorEmail)
		if err != nil {
			return err
		}
		// Shown once: the database keeps only its argon2id hash.
		fmt.Fprintf(m.Stdout, "carebook support staff %s, password: %s\n", op.Email, pw)
		return nil
	}
	if cfg.Demo {
		if err := m.seed(ctx); err != nil {
			ln.Close()
			return err
		}
	}
	opts := refserver.Options{Logger: logger}
	if err := m.webhookOptions(&opts, publicURL); err != nil {
		ln.Close()
		return err
	}
	proxies, err := refserver.ParseTrustedProxies("trusted_proxies", cfg.TrustedProxies)
	if err != nil {
		ln.Close()
		return err
	}
	opts.TrustedProxies = proxies
	if cfg.Auth == authSession {
		opts.Authenticate = refserver.SessionAuth(e.Identity)
	} else {
		logger.Warn("authentication is off: requests name their actor in " + refserver.ActorHeader + "; use -auth session outside development")
	}
	if err := m.startJobs(); err != nil {
		ln.Close()
		return err
	}
	srv := refserver.New(e, opts, api.Module, web.Module)
	sctx, cancel := context.WithCancel(ctx)
	m.stopServe, m.served = cancel, make(chan error, 1)
	go func() { m.served <- srv.Serve(sctx, ln) }()
	logger.Info("serving", "url", m.url, "public_url", publicURL, "migrated", migrate, "auth", cfg.Auth, "tls", tlsOn,
		"audit_archive", cfg.AuditArchive, "audit_export_every", cfg.AuditExportEvery.String(), "files", filesWhere(cfg.FilesURL),
		"dispatch_every", cfg.Notify.DispatchEvery.String(),
		"trials_every", cfg.TrialsEvery.String(), "billing_every", cfg.BillingEvery.String())
	fmt.Fprintf(m.Stdout, "carebook listening on %s\n", m.url)
	return nil
}

// listen opens serve's listener, over TLS when configured, and sets the
// URL served.
func (m *Main) listen() (net.Listener, bool, error) {
	cfg := m.Config
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, false, fmt.Errorf("load the TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, false, err
	}
	m.url = "http://" + displayAddr(ln.Addr())
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		m.url = "https://" + displayAddr(ln.Addr())
	}
	return ln, tlsConfig != nil, nil
}

// openFiles opens serve's bucket of patients' files, or logs that there is
// none (Config.FilesURL ""). The directory of a file:// bucket that is
// made on first use is made here, readable by the server's user alone.
func (m *Main) openFiles(ctx context.Context) error {
	cfg := m.Config
	if cfg.FilesURL == "" {
		m.logger.Warn("patients' files are off: this server keeps no files, and their routes answer 404; set -files-url")
		return nil
	}
	if u, err := url.Parse(cfg.FilesURL); err == nil && u.Scheme == "file" && u.Query().Has("create_dir") {
		dir := u.Path
		if len(dir) > 2 && dir[0] == '/' && dir[2] == ':' {
			dir = dir[1:] // a Windows drive
		}
		if err := os.MkdirAll(filepath.FromSlash(dir), 0o700); err != nil {
			return fmt.Errorf("the directory of patients' files: %w", err)
		}
	}
	b, err := files.OpenBucket(ctx, cfg.FilesURL)
	if err != nil {
		return fmt.Errorf("-files-url / CAREBOOK_FILES_URL: %w", err)
	}
	m.files = b
	m.logger.Info("patients' files are kept encrypted", "files", cfg.FilesURL)
	return nil
}

// closeFiles closes the bucket of patients' files, if open.
func (m *Main) closeFiles() error {
	if m.files == nil {
		return nil
	}
	err := m.files.Close()
	m.files = nil
	if err != nil {
		return fmt.Errorf("close the bucket of patients' files: %w", err)
	}
	return nil
}

// filesWhere names the bucket of patients' files for the log: its URL, or
// "off".
func filesWhere(u string) string {
	if u == "" {
		return "off"
	}
	return u
}

// closeListener closes ln unless it is nil.
func closeListener(ln net.Listener) {
	if ln != nil {
		ln.Close()
	}
}

// startJobs starts the scheduler of serve's jobs (Engine.RegisterJobs):
// the outbox dispatch, the activity log export into Config.AuditArchive
// unless that is "", and the FHIR bulk exports when there is a files
// bucket (they keep their files there), the sweep of the rate limits, the
// active providers roll-up, the end of the trials every
// Config.TrialsEvery, the billing (invoices, their charges and dunning)
// every Config.BillingEvery and the refresh of the public directory. A
// run's failure is logged; the next run tries again.
func (m *Main) startJobs() error {
	cfg := m.Config
	senders, err := m.senders()
	if err != nil {
		return err
	}
	jobs := carebook.JobsConfig{Senders: senders, Dispatcher: notify.DispatcherConfig{Lease: cfg.Notify.DispatchLease},
		DispatchEvery: cfg.Notify.DispatchEvery, AuditExportEvery: cfg.AuditExportEvery, Logger: m.logger,
		FHIRExports: m.engine.Files != nil, SweepRateLimits: true, RefreshDirectory: true, ActiveProviders: true,
		EndTrials: true, TrialsEvery: cfg.TrialsEvery, Billing: true, BillingEvery: cfg.BillingEvery}
	if cfg.AuditArchive == "" {
		m.logger.Warn("the activity log is not exported to cold storage; set -audit-archive")
	} else {
		archive, err := audit.NewDirArchive(cfg.AuditArchive)
		if err != nil {
			return err
		}
		jobs.AuditArchive = archive
	}
	s, err := gocron.NewScheduler(gocron.WithLocation(time.UTC))
	if err != nil {
		return fmt.Errorf("start the scheduler: %w", err)
	}
	registered, err := m.engine.RegisterJobs(s, jobs)
	if err != nil {
		s.Shutdown()
		return err
	}
	s.Start()
	m.scheduler, m.exporter, m.dispatcher = s, registered.Exporter, registered.Dispatcher
	return nil
}

func (m *Main) seed(ctx context.Context) error {
	res, err := demo.SeedWithAdmin(ctx, m.engine)
	if err != nil {
		return fmt.Errorf("seed the demo clinic: %w", err)
	}
	m.demoPractice = res.PracticeID
	fmt.Fprintf(m.Stdout, "carebook demo practice %s\n", res.PracticeID)
	accounts := []struct{ who, email, password string }{
		{"demo admin", demo.AdminEmail, res.AdminPassword},
		{"demo front desk", demo.FrontDeskEmail, res.FrontDeskPassword},
		{"demo clinician", demo.ClinicianEmail, res.ClinicianPassword},
		{"demo patient", demo.PatientEmail, res.PatientPassword},
		{"demo support staff (/ops/)", demo.OperatorEmail, res.OperatorPassword},
	}
	for _, a := range accounts {
		if a.password != "" {
			// Shown once: the database keeps only its hash.
			fmt.Fprintf(m.Stdout, "%s: %s / %s\n", a.who, a.email, a.password)
		} else {
			fmt.Fprintf(m.Stdout, "%s: %s (its password was shown on first start)\n", a.who, a.email)
		}
	}
	return nil
}

// URL is where serve listens, once Run has returned.
func (m *Main) URL() string { return m.url }

// Wait blocks until the server stops on its own (an error) or ctx is done.
// It returns at once for the commands that do not serve.
func (m *Main) Wait(ctx context.Context) error {
	if m.served == nil {
		return nil
	}
	select {
	case err := <-m.served:
		m.served = nil
		return err
	case <-ctx.Done():
		return nil
	}
}

// Close shuts the server down gracefully (waiting for requests in flight)
// and closes the engine, then the bucket of patients' files.
func (m *Main) Close() error {
	var err error
	if m.stopServe != nil {
		m.logger.Info("shutting down", "url", m.url)
		m.stopServe()
		if m.served != nil {
			err = <-m.served
			m.served = nil
		}
		m.stopServe = nil
	}
	if m.scheduler != nil {
		// Waits for a run in progress; the engine is closed after.
		if serr := m.scheduler.Shutdown(); err == nil && serr != nil {
			err = fmt.Errorf("stop the activity log export and the dispatch: %w", serr)
		}
		m.scheduler, m.exporter, m.dispatcher = nil, nil, nil
	}
	if m.engine != nil {
		if cerr := m.engine.Close(); err == nil {
			err = cerr
		}
		m.engine = nil
	}
	// The engine does not close the bucket it was given.
	if cerr := m.closeFiles(); err == nil {
		err = cerr
	}
	return err
}

// displayAddr renders a listener's address for a URL, naming the loopback
// address when it listens on all of them.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// redact hides the password of a DSN for error messages.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return dsn
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return dsn
	}
	return scheme + "://" + user + ":***@" + rest[at+1:]
}
