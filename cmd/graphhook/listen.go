package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/graphhook/graphhook/internal/listen"
)

func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("listen", stderr)
	var cfg listen.Config
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8787", "graphhook's base URL")
	fs.StringVar(&cfg.Tenant, "tenant", listen.DemoTenant, "tenant id or domain to get the token from")
	fs.StringVar(&cfg.ClientID, "client-id", "", "client id of the app to sign in as (default: the demo app, or the delegated demo app with --username)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "", "the app's client secret")
	fs.StringVar(&cfg.Username, "username", "", "sign a user in (password grant) for a delegated token instead of an application token")
	fs.StringVar(&cfg.Password, "password", "", "the user's password")
	fs.StringVar(&cfg.ListenAddr, "listen-addr", "127.0.0.1:0", "address of the loopback receiver (port 0 picks a free one)")
	fs.StringVar(&cfg.Resource, "resource", "", "resource to subscribe to, e.g. \"/me/mailFolders('inbox')/messages\"")
	fs.StringVar(&cfg.ChangeType, "change-type", "", "comma-separated change types: created, updated, deleted")
	fs.StringVar(&cfg.ForwardTo, "forward-to", "", "replay every accepted notification request to this URL and answer with its status")
	fs.BoolVar(&cfg.IncludeResourceData, "include-resource-data", false, "ask for rich notifications (a throwaway certificate is generated) and print them decrypted")
	fs.StringVar(&cfg.KeyOut, "key-out", "", "with --include-resource-data: write the throwaway private key (PEM) to this file, so a --forward-to app can decrypt")
	fs.DurationVar(&cfg.Expiration, "expiration", 60*time.Minute, "subscription lifetime asked for on creation and on each renewal")
	fs.StringVar(&cfg.ClientState, "client-state", "", "clientState of the subscription (default: random)")
	fs.BoolVar(&cfg.Lifecycle, "lifecycle", false, "also receive lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}
	return listen.Run(ctx, cfg, stdout, stderr)
}
