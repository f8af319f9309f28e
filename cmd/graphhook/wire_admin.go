package main

import (
	"context"

	"github.com/graphhook/graphhook/internal/admin"
)

func init() {
	wirings = append(wirings, wiring{name: "admin", wire: func(ctx context.Context, m *Main) error {
		a, err := admin.New(admin.Config{Profile: m.Config.Profile}, m.Identity, m.Clock)
		if err != nil {
			return err
		}
		a.Routes(m.HTTP.Admin())
		return nil
	}})
}
