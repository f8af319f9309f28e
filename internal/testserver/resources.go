package testserver

import (
	"slices"

	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/workload/callrecords"
	"github.com/graphhook/graphhook/internal/workload/conversations"
	"github.com/graphhook/graphhook/internal/workload/directory"
	"github.com/graphhook/graphhook/internal/workload/files"
	"github.com/graphhook/graphhook/internal/workload/outlook"
	"github.com/graphhook/graphhook/internal/workload/security"
	"github.com/graphhook/graphhook/internal/workload/sites"
	"github.com/graphhook/graphhook/internal/workload/teams"
)

// Resources returns the subscribable resources of every workload, as main hands
// them to the subscriptions API and the delivery pipeline.
func Resources() []resource.Descriptor {
	return slices.Concat(
		directory.Resources(),
		outlook.Resources(),
		conversations.Resources(),
		files.Resources(),
		sites.Resources(),
		security.Resources(),
		callrecords.Resources(),
		teams.Resources(),
	)
}
