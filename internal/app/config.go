package app

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/graphhook/graphhook/internal/bodyrate"
	"github.com/graphhook/graphhook/internal/delivery"
	"github.com/graphhook/graphhook/internal/leader"
	"github.com/graphhook/graphhook/internal/subscription"
	"github.com/graphhook/graphhook/internal/workload/files"
)

// Config is everything a server can be told. `graphhook serve` fills it from its
// flags; tests and `graphhook bench` fill it directly. The error texts name the

// DefaultMaxPendingWrites is serve's cap on Graph API writes in flight: as many as the
// embedded store's writer commits together (up to 256 share one flush of the log, so
// a full batch costs each write least), few enough that a write taken waits a couple
// of hundred milliseconds, not seconds, behind the others.
const DefaultMaxPendingWrites = 256

// flags, since that is how an operator sets these.
type Config struct {
	// Addr is the listen address (default 127.0.0.1:8787; port 0 picks a free one).
	Addr string
	// Data is the embedded store's data folder (default ./graphhook-data).
	Data string
	// Synchronous is the embedded store's SQLite synchronous pragma (default FULL:
	// a commit survives a power cut). Tests take NORMAL.
	Synchronous string
	// RerunWrites runs every write transaction of the embedded store twice, the first
	// run rolled back, as a batch of writes that meets a failing one runs them again:
	// tests set it so that every write they make shows it bears a second run.
	RerunWrites bool
	// Database is "" for the embedded SQLite store, or a postgres:// URL.
	Database string
	// PGTracer, with Database, sees every statement of the store's pool (`graphhook
	// bench --pg-replay` captures a change's transaction with it).
	PGTracer pgx.QueryTracer
	// Fixture is a tenant fixture file applied at start; "" loads the demo tenant
	// into an empty store.
	Fixture string
	// Profile is dev (default) or strict.
	Profile string
	// PublicURL is the base URL the server names itself by where no request says
	// (the banner; a server behind a reverse proxy). Empty: links follow the scheme
	// and host of each request, and the banner names http://<Addr>.
	PublicURL string
	// HTTPSAddr is the HTTPS listen address ("" or "off": no HTTPS listener; the
	// serve command's default is 127.0.0.1:8443). Its certificate comes from the
	// local CA unless TLSCert and TLSKey are given.
	HTTPSAddr string
	// TLSNames are host names (or IP addresses) the local CA's server certificate
	// covers besides localhost, 127.0.0.1 and ::1.
	TLSNames []string
	// TLSCert and TLSKey are PEM files of a certificate and key to serve HTTPS with
	// instead of the local CA's (bring your own, for production).
	TLSCert, TLSKey string
	// AdminKey is the admin API key; generated when empty (dev), required in strict.
	AdminKey string
	// LogLevel is debug, info (default), warn or error.
	LogLevel string
	// LeaseTTL is how long the lease of leader-only services lasts on PostgreSQL
	// (default leader.DefaultTTL). It is also how long a node's heartbeat lasts: the
	// rows a dead node left in flight are rescued once it has not beaten for this
	// long.
	LeaseTTL time.Duration

	// MaxPendingWrites caps the Graph API writes in flight (serve's default is
	// DefaultMaxPendingWrites); past it a write is
	// answered 429 with Retry-After at once instead of queueing for the store
	// (0: no cap). serve's --max-pending-writes.
	MaxPendingWrites int

	// Delivery configures the delivery pipeline; zero fields take Graph's numbers.
	// Run sets RescueOnStart (on the embedded store this process is the only
	// dispatcher), Strict (from Profile), and on PostgreSQL Node and HeartbeatTTL
	// (the node's lease name and LeaseTTL) itself.
	Delivery delivery.Config
	// Subscription configures the subscriptions API; zero fields take Graph's
	// numbers. Run sets Profile, Clock, Log and OnDelete itself.
	Subscription subscription.Config
	// Files sets the files workload's limits; zero fields take Graph's.
	Files files.Config
	// BodyRate is the minimum request-body rate both listeners enforce; zero fields
	// take its defaults (1 KiB/s over 30 s windows).
	BodyRate bodyrate.Config
	// ExtraWorkloads are built after graphhook's own workloads and served like them:
	// tests add a resource type of their own this way.
	ExtraWorkloads []func(Deps) (Workload, error)
}

// withDefaults fills the fields whose zero value means a default.
func (c Config) withDefaults() Config {
	c.Addr = cmp.Or(c.Addr, "127.0.0.1:8787")
	c.Profile = cmp.Or(c.Profile, "dev")
	c.LogLevel = cmp.Or(c.LogLevel, "info")
	if c.Database == "" {
		c.Data = cmp.Or(c.Data, "./graphhook-data")
	}
	return c
}

// Check reports what is wrong with c as a user gave it (the messages name the
// flags), with defaults filled as Run fills them; Run checks it too. It lets a
// caller tell a usage error from a failure to start.
func (c Config) Check() error {
	c = c.withDefaults()
	return c.validate()
}

func (c *Config) validate() error {
	switch c.Profile {
	case "dev", "strict":
	default:
		return fmt.Errorf("--profile must be dev or strict, not %q", c.Profile)
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return fmt.Errorf("--database must be empty (embedded SQLite) or a postgres:// URL")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url must be an absolute http(s) URL, not %q", c.PublicURL)
		}
	}
	if c.LeaseTTL != 0 && c.LeaseTTL < leader.MinTTL {
		return fmt.Errorf("--lease-ttl must be at least %v, not %v", leader.MinTTL, c.LeaseTTL)
	}
	if c.Profile == "strict" && c.AdminKey == "" {
		return errors.New("the strict profile needs --admin-key (or GRAPHHOOK_ADMIN_KEY)")
	}
	if c.Profile == "strict" && c.Fixture == "" {
		// The demo tenant's credentials are published: a strict server must never
		// seed or accept them.
		return errors.New("the strict profile needs --fixture (or GRAPHHOOK_FIXTURE): it never loads the demo tenant, whose credentials are public")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	// Settings that would be ignored are refused: a user who gave them expects an
	// effect.
	if c.HTTPSAddr == "" || c.HTTPSAddr == "off" {
		if c.TLSCert != "" || len(c.TLSNames) > 0 {
			return errors.New("--tls-cert, --tls-key and --tls-name configure the HTTPS listener, which --https-addr off turns off")
		}
	}
	if c.TLSCert != "" && len(c.TLSNames) > 0 {
		return errors.New("--tls-name adds names to the local CA's certificate; with --tls-cert the certificate given is served as it is (drop one of them)")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level must be debug, info, warn or error")
	}
	return nil
}
