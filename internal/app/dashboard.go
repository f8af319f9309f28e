package app

import (
	"github.com/graphhook/graphhook/internal/dashboard"
	"github.com/graphhook/graphhook/internal/identity"
)

// wireDashboard serves the web dashboard at /_graphhook/ and lets its sessions use the
// admin API. It shows the credentials of the fixture this server applied: its file's,
// or the demo's when the server serves the demo tenant.
func (m *Main) wireDashboard() error {
	fixture := m.fixture
	if fixture == nil && m.DemoLoaded {
		fixture = identity.DemoFixture()
	}
	d, err := dashboard.New(dashboard.Config{AdminKey: m.Config.AdminKey, Profile: m.Config.Profile, Fixture: fixture}, m.Identity, m.Store)
	if err != nil {
		return err
	}
	d.Routes(m.HTTP.Admin())
	m.HTTP.SetAdminUI(d)
	m.dashboard = d
	return nil
}
