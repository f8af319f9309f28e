package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/trigger"
)

// wireTrigger serves /_graphhook/trigger: sample changes of every described resource
// type, made through this server's own handler.
func (m *Main) wireTrigger() error {
	cfg := trigger.Config{
		Resources: resources(m.Workloads), Handler: m.HTTP, Identity: m.Identity, Store: m.Store, AdminKey: m.Config.AdminKey,
	}
	if m.DemoLoaded {
		cfg.DefaultTenant = identity.DemoFixture().Tenants[0].ID
	}
	t, err := trigger.New(cfg)
	if err != nil {
		return err
	}
	m.Trigger = t
	t.Routes(m.HTTP.Admin())
	return nil
}

// AdminKeyFile is the file in the data folder where a dev server writes its admin key,
// so that `graphhook trigger` on the same machine needs no --admin-key.
const AdminKeyFile = "admin-key"

// writeAdminKeyFile writes the admin key to <data>/admin-key (mode 0600) in the dev
// profile with the embedded store; other setups keep the key to whoever started them.
func (m *Main) writeAdminKeyFile() error {
	cfg := &m.Config
	if cfg.Profile != "dev" || cfg.Data == "" || cfg.Database != "" {
		return nil
	}
	path := filepath.Join(cfg.Data, AdminKeyFile)
	// Replace rather than rewrite, so that a file left with looser permissions is
	// not kept.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(cfg.AdminKey+"\n"), 0o600); err != nil {
		return fmt.Errorf("admin key file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("admin key file: %w", err)
	}
	return nil
}
