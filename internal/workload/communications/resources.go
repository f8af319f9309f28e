package communications

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/directory"
)

// Resource type names.
const (
	PresenceResource       = "presence"
	OnlineMeetingResource  = "onlineMeeting"
	TranscriptResource     = "callTranscript"
	RecordingResource      = "callRecording"
	workloadName           = "Microsoft Teams"
	artifactLifetime       = 4230 * time.Minute
	meetingEventsLifetime  = 4320 * time.Minute
	presenceLifetime       = 60 * time.Minute
	sampleSession          = "5c1b4a77-0d6c-4a8f-9b1e-2f3c4d5e6f70"
	sampleTranscriptVTT    = `WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Adele Vance>Hello everyone.</v>\n`
	sampleRecordingContent = "recording"
)

// Permission variants of transcript and recording paths.
const (
	VariantTenant  = "tenant"  // communications/onlineMeetings/getAll…
	VariantMeeting = "meeting" // communications/onlineMeetings/{id}/…
	VariantUser    = "user"    // users/{id}/onlineMeetings/getAll…
)

// Resources describes the subscribable presence, meeting call events, transcripts
// and recordings, after Microsoft's "Get change notifications for presence updates in
// Microsoft Teams", "Get change notifications for Microsoft Teams meeting call event
// updates" and "Get change notifications for meeting transcripts and recordings".
func Resources() []resource.Descriptor {
	return []resource.Descriptor{
		presenceDescriptor(),
		meetingDescriptor(),
		artifactDescriptor(artifacts[0], TranscriptResource, "OnlineMeetingTranscript", `{"content":"`+sampleTranscriptVTT+`"}`),
		artifactDescriptor(artifacts[1], RecordingResource, "OnlineMeetingRecording", `{"content":"`+sampleRecordingContent+`"}`),
	}
}

// removedWithMeeting: a deleted meeting takes the subscriptions on its call events,
// transcripts and recordings with it.
func removedWithMeeting(kind, id string) []string {
	if kind == KindOnlineMeeting {
		return []string{change.OnlineMeeting(id)}
	}
	return nil
}

// presenceDescriptor: delegated work callers with Presence.Read.All only, one user
// or up to 650 by $filter=id in (…), "updated" only, an hour at most, rich data.
func presenceDescriptor() resource.Descriptor {
	return resource.Descriptor{
		Type:        PresenceResource,
		Workload:    workloadName,
		Kinds:       []string{KindPresence},
		ChangeTypes: []string{store.Updated},
		MaxLifetime: presenceLifetime,
		RichData:    true,
		Paths: []resource.Path{
			{Pattern: "communications/presences/{user}", Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				if !identity.IsGUID(ids[0]) {
					return resource.Target{}, r.Invalid("Presence subscriptions name users by object id; '%s' is not one.", ids[0])
				}
				o, err := r.Object(identity.KindUser, ids[0], "", "User '%s' does not exist.")
				return resource.Target{Topic: change.Presence(o.ID)}, err
			}},
			{Pattern: "communications/presences", Options: resource.AllowFilter, Resolve: resolvePresences},
		},
		Permissions: []resource.Permission{{DelegatedWork: []string{"Presence.Read.All"}}},
		Samples: []resource.Sample{
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("POST", "users/{user}/presence/setPresence",
				`{"sessionId":"`+sampleSession+`","availability":"Busy","activity":"InACall","expirationDuration":"PT1H"}`)}, Permission: "Presence.ReadWrite.All"},
		},
	}
}

// presenceFilter is the one $filter the presences collection takes.
var presenceFilter = regexp.MustCompile(`(?i)^\s*id\s+in\s*\((.*)\)\s*$`)

// resolvePresences checks communications/presences?$filter=id in ('{id}', …): the
// filter is required, names between 1 and 650 users by object id, and each exists.
// The subscription watches every presence of the tenant and its $filter keeps the
// named users' changes.
func resolvePresences(r *resource.Resolver, _ []string) (resource.Target, error) {
	list := presenceFilter.FindStringSubmatch(filterText(r.Resource))
	if list == nil {
		return resource.Target{}, r.Invalid("A presence subscription on communications/presences needs $filter=id in ('{id}', …).")
	}
	items := strings.Split(list[1], ",")
	if len(items) > maxPresenceIDs {
		return resource.Target{}, r.Invalid("A presence subscription may name at most %d users; the filter names %d.", maxPresenceIDs, len(items))
	}
	for _, it := range items {
		it = strings.TrimSpace(it)
		id := strings.Trim(it, "'")
		if len(it) < 2 || it[0] != '\'' || it[len(it)-1] != '\'' || !identity.IsGUID(id) {
			return resource.Target{}, r.Invalid("Invalid user id %s in the presence filter: a quoted object id expected.", it)
		}
		if _, err := r.Object(identity.KindUser, id, "", "User '%s' does not exist."); err != nil {
			return resource.Target{}, err
		}
	}
	return resource.Target{Topic: change.Presences()}, nil
}

// filterText returns the decoded $filter of a resource string ("" when none).
func filterText(res string) string {
	_, query, _ := strings.Cut(res, "?")
	for part := range strings.SplitSeq(query, "&") {
		name, value, _ := strings.Cut(part, "=")
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
		if strings.EqualFold(strings.TrimPrefix(name, "$"), "filter") {
			if v, err := url.PathUnescape(value); err == nil {
				return v
			}
			return value
		}
	}
	return ""
}

// meetingDescriptor: call events of one meeting named by its join link, for
// applications, "updated", three days, rich data.
func meetingDescriptor() resource.Descriptor {
	return resource.Descriptor{
		Type:        OnlineMeetingResource,
		Workload:    workloadName,
		Kinds:       []string{KindCallEvent},
		ChangeTypes: []string{store.Updated},
		MaxLifetime: meetingEventsLifetime,
		RichData:    true,
		Teams:       true,
		Lifecycle:   []string{graph.LifecycleSubscriptionRemoved},
		Paths: []resource.Path{
			// communications/onlineMeetings(joinWebUrl='{url}')/meetingCallEvents: the
			// router reads the key into its own segment.
			{Pattern: "communications/onlineMeetings/{url}/meetingCallEvents", Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				o, err := r.Tx.GetObjectByAlt(r.Ctx, r.Principal.TenantID, KindOnlineMeeting, ids[0])
				if errors.Is(err, store.ErrNotFound) {
					return resource.Target{}, r.NotFound("No online meeting has the join link '%s'.", ids[0])
				}
				if err != nil {
					return resource.Target{}, err
				}
				return resource.Target{Topic: change.MeetingCallEvents(o.ID)}, nil
			}},
		},
		Permissions: []resource.Permission{{Application: []string{"OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All"}}},
		RemovedWith: removedWithMeeting,
		Samples: []resource.Sample{
			{ChangeType: store.Updated, Requests: []resource.Request{resource.Req("POST", "tenants/{tenant}/onlineMeetings/{meeting}/callEvents", `{"callEventType":"callStarted"}`)}, Admin: true},
		},
	}
}

// artifactDescriptor: transcripts or recordings, tenant-wide, per meeting and per
// organizer, for applications, "created", 4230 minutes, rich data.
func artifactDescriptor(a *artifact, typeName, perm, sampleBody string) resource.Descriptor {
	all := perm + ".Read.All"
	return resource.Descriptor{
		Type:        typeName,
		Workload:    workloadName,
		Kinds:       []string{a.kind},
		ChangeTypes: []string{store.Created},
		MaxLifetime: artifactLifetime,
		RichData:    true,
		Teams:       true,
		Lifecycle:   []string{graph.LifecycleSubscriptionRemoved},
		Paths: []resource.Path{
			{Pattern: "communications/onlineMeetings/getAll" + upperFirst(a.segment), Variant: VariantTenant, Resolve: func(r *resource.Resolver, _ []string) (resource.Target, error) {
				return resource.Target{Topic: a.topics("", "")[0]}, nil
			}},
			{Pattern: "communications/onlineMeetings/{meeting}/" + a.segment, Variant: VariantMeeting, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				o, err := r.Object(KindOnlineMeeting, ids[0], "", "Online meeting '%s' does not exist.")
				return resource.Target{Topic: a.topics(o.ID, "")[1]}, err
			}},
			{Pattern: "users/{user}/onlineMeetings/getAll" + upperFirst(a.segment), Variant: VariantUser, Resolve: func(r *resource.Resolver, ids []string) (resource.Target, error) {
				u, err := directory.SubscribedUser(r, ids[0])
				return resource.Target{Topic: a.topics("", u)[2]}, err
			}},
		},
		Permissions: []resource.Permission{
			{Variant: VariantTenant, Application: []string{all}},
			{Variant: VariantMeeting, Application: []string{perm + ".Read.Chat", all}},
			{Variant: VariantUser, Application: []string{all}},
		},
		RemovedWith: removedWithMeeting,
		Samples: []resource.Sample{
			{ChangeType: store.Created, Requests: []resource.Request{resource.Req("POST", "tenants/{tenant}/onlineMeetings/{meeting}/"+a.segment, sampleBody)}, Admin: true},
		},
	}
}

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
