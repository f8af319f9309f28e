package listen

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The demo fixture's tenant and apps, the default identity of `graphhook listen`.
const (
	DemoTenant          = "6f1c2d3e-0000-4000-8000-000000000001"
	demoAppID           = "11111111-0000-4000-8000-000000000001"
	demoAppSecret       = "demo-app-secret"
	demoDelegatedAppID  = "11111111-0000-4000-8000-000000000002"
	demoDelegatedSecret = "demo-delegated-secret"
)

// Config is everything `graphhook listen` can be told.
type Config struct {
	Server       string // graphhook's base URL (default http://127.0.0.1:8787, set by the flag)
	Tenant       string // tenant id or domain tokens are asked from (default DemoTenant, set by the flag)
	ClientID     string // app to sign in as (default the demo app matching the grant)
	ClientSecret string // its secret (default the demo app's)
	Username     string // with Password: a delegated token by the password grant
	Password     string
	ListenAddr   string // receiver address (default 127.0.0.1:0, set by the flag)

	Resource            string        // subscription resource, e.g. /users/{id}/messages; required
	ChangeType          string        // comma-separated created, updated, deleted; required
	ForwardTo           string        // URL every accepted notification request is replayed to
	IncludeResourceData bool          // rich notifications, with a throwaway certificate
	KeyOut              string        // with IncludeResourceData: write the throwaway key here (PEM), for --forward-to targets
	Expiration          time.Duration // lifetime asked for on create and renew (default 60m, set by the flag)
	ClientState         string        // clientState (default random)
	Lifecycle           bool          // lifecycleNotificationUrl = the receiver too
}

// Validate checks c as the user gave it; its messages name the flags.
func (c *Config) Validate() error {
	if !absoluteHTTP(c.Server) {
		return fmt.Errorf("--server must be an absolute http(s) URL, not %q", c.Server)
	}
	if c.ForwardTo != "" && !absoluteHTTP(c.ForwardTo) {
		return fmt.Errorf("--forward-to must be an absolute http(s) URL, not %q", c.ForwardTo)
	}
	switch {
	case c.Resource == "":
		return errors.New("--resource is required, e.g. --resource \"/me/mailFolders('inbox')/messages\"")
	case c.ChangeType == "":
		return errors.New("--change-type is required: a comma-separated list of created, updated, deleted")
	case c.Tenant == "":
		return errors.New("--tenant must not be empty")
	case c.Expiration <= 0:
		return fmt.Errorf("--expiration must be positive, not %v", c.Expiration)
	case len(c.ClientState) > 128:
		return fmt.Errorf("--client-state is %d characters; Graph allows at most 128", len(c.ClientState))
	case (c.Username == "") != (c.Password == ""):
		return errors.New("--username and --password go together")
	case c.KeyOut != "" && !c.IncludeResourceData:
		return errors.New("--key-out writes the key of --include-resource-data's throwaway certificate; add --include-resource-data")
	case c.ClientSecret != "" && c.ClientID == "":
		// The demo app's own secret would be used instead: say so rather than sign
		// in as an app the user did not mean.
		return errors.New("--client-secret needs --client-id: the app whose secret it is (without both, listen signs in as the demo app)")
	case c.Username == "" && c.ClientID != "" && c.ClientSecret == "":
		return errors.New("--client-secret is required with --client-id for an application token")
	}
	for _, t := range strings.Split(c.ChangeType, ",") {
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "created", "updated", "deleted":
		default:
			return fmt.Errorf("--change-type %q: each value must be created, updated or deleted", t)
		}
	}
	return nil
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// fillDefaults picks the demo app matching the grant when no app is named, and a
// random clientState. It may run more than once.
func (c *Config) fillDefaults() {
	if c.ClientID == "" {
		c.ClientID, c.ClientSecret = demoAppID, demoAppSecret
		if c.Username != "" {
			c.ClientID, c.ClientSecret = demoDelegatedAppID, demoDelegatedSecret
		}
	}
	if c.ClientState == "" {
		b := make([]byte, 16)
		rand.Read(b)
		c.ClientState = hex.EncodeToString(b)
	}
	c.Server = strings.TrimRight(c.Server, "/")
}
