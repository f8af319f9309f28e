package testserver

import (
	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/resource"
)

// Resources returns the subscribable resources of every built-in workload, the list
// a Main hands to the subscriptions API and the delivery pipeline, for tests that
// wire those parts themselves.
func Resources() []resource.Descriptor { return app.Resources() }
