package main

import "github.com/graphhook/graphhook/internal/testserver"

// The demo tenant's facts the command tests use, from the built-in fixture.
const (
	demoTenant          = testserver.Tenant
	demoAppID           = testserver.AppID
	demoAppSecret       = testserver.AppSecret
	demoDelegatedAppID  = testserver.DelegatedAppID
	demoDelegatedSecret = testserver.DelegatedSecret
	adeleID             = testserver.Adele
	demoAdele           = testserver.Adele
)
