package communications_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/workload/communications"
)

// TestPermissionTables checks every descriptor's permission table row by row
// against Microsoft's current pages, written out here rather than derived from
// the table under test: "Get change notifications for presence updates in
// Microsoft Teams", "Get change notifications for Microsoft Teams meeting call event
// updates" and "Get change notifications for meeting transcripts and recordings".
func TestPermissionTables(t *testing.T) {
	want := map[string][]resource.Permission{
		"presence": {
			{Variant: "", Application: nil, DelegatedWork: []string{"Presence.Read.All"}, DelegatedPersonal: nil},
		},
		"onlineMeeting": {
			{Variant: "", Application: []string{"OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All"}, DelegatedWork: nil, DelegatedPersonal: nil},
		},
		"callTranscript": {
			{Variant: "tenant", Application: []string{"OnlineMeetingTranscript.Read.All"}},
			{Variant: "meeting", Application: []string{"OnlineMeetingTranscript.Read.Chat", "OnlineMeetingTranscript.Read.All"}},
			{Variant: "user", Application: []string{"OnlineMeetingTranscript.Read.All"}},
		},
		"callRecording": {
			{Variant: "tenant", Application: []string{"OnlineMeetingRecording.Read.All"}},
			{Variant: "meeting", Application: []string{"OnlineMeetingRecording.Read.Chat", "OnlineMeetingRecording.Read.All"}},
			{Variant: "user", Application: []string{"OnlineMeetingRecording.Read.All"}},
		},
	}
	got := map[string][]resource.Permission{}
	for _, d := range communications.Resources() {
		got[d.Type] = d.Permissions
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("permission tables (-want +got):\n%s", diff)
	}
}

// TestDescriptors checks the rest of each descriptor against the same pages: paths
// with their variants, change types, lifetimes, rich data, the Teams lifecycle rule,
// and one sample per change type.
func TestDescriptors(t *testing.T) {
	type shape struct {
		Paths       map[string]string // pattern → variant
		ChangeTypes []string
		MaxLifetime time.Duration
		RichData    bool
		Teams       bool
		Lifecycle   []string
		Samples     []string
	}
	want := map[string]shape{
		"presence": {
			Paths:       map[string]string{"communications/presences/{user}": "", "communications/presences": ""},
			ChangeTypes: []string{"updated"}, MaxLifetime: time.Hour, RichData: true,
			Samples: []string{"updated"},
		},
		"onlineMeeting": {
			Paths:       map[string]string{"communications/onlineMeetings/{url}/meetingCallEvents": ""},
			ChangeTypes: []string{"updated"}, MaxLifetime: 3 * 24 * time.Hour, RichData: true, Teams: true,
			Lifecycle: []string{"subscriptionRemoved"}, Samples: []string{"updated"},
		},
		"callTranscript": {
			Paths: map[string]string{
				"communications/onlineMeetings/getAllTranscripts":     "tenant",
				"communications/onlineMeetings/{meeting}/transcripts": "meeting",
				"users/{user}/onlineMeetings/getAllTranscripts":       "user",
			},
			ChangeTypes: []string{"created"}, MaxLifetime: 4230 * time.Minute, RichData: true, Teams: true,
			Lifecycle: []string{"subscriptionRemoved"}, Samples: []string{"created"},
		},
		"callRecording": {
			Paths: map[string]string{
				"communications/onlineMeetings/getAllRecordings":     "tenant",
				"communications/onlineMeetings/{meeting}/recordings": "meeting",
				"users/{user}/onlineMeetings/getAllRecordings":       "user",
			},
			ChangeTypes: []string{"created"}, MaxLifetime: 4230 * time.Minute, RichData: true, Teams: true,
			Lifecycle: []string{"subscriptionRemoved"}, Samples: []string{"created"},
		},
	}
	got := map[string]shape{}
	for _, d := range communications.Resources() {
		s := shape{Paths: map[string]string{}, ChangeTypes: d.ChangeTypes, MaxLifetime: d.MaxLifetime,
			RichData: d.RichData, Teams: d.Teams, Lifecycle: d.Lifecycle}
		for _, p := range d.Paths {
			s.Paths[p.Pattern] = p.Variant
		}
		for _, sm := range d.Samples {
			s.Samples = append(s.Samples, sm.ChangeType)
		}
		got[d.Type] = s
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("descriptors (-want +got):\n%s", diff)
	}
}
