package main

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

// resources are the subscribable resources of the workloads main serves, handed
// to the subscriptions API and the delivery pipeline: a workload's resources
// become subscribable by being listed here.
func resources() []resource.Descriptor {
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
