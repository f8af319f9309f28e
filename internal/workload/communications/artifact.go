package communications

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/graphhook/graphhook/internal/admin"
	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// artifact is what differs between a meeting's transcripts and its recordings; the
// API and the admin route are one implementation.
type artifact struct {
	segment    string // "transcripts"
	kind       string
	typeName   string // "callTranscript"
	odataType  string // resourceData's @odata.type
	contentURL string // the property naming the content's URL
	mediaType  string // the content's Content-Type
	perms      rest.Permissions
	topics     func(meeting, organizer string) []string
}

var artifacts = []*artifact{
	{
		segment: "transcripts", kind: KindTranscript, typeName: "callTranscript",
		odataType: "#Microsoft.Graph.callTranscript", contentURL: "transcriptContentUrl", mediaType: "text/vtt",
		perms: rest.Permissions{Delegated: []string{"OnlineMeetingTranscript.Read.All"}, Application: []string{"OnlineMeetingTranscript.Read.All"}, Personal: noMeetings},
		topics: func(m, u string) []string {
			return []string{change.AllTranscripts(), change.MeetingTranscripts(m), change.UserTranscripts(u)}
		},
	},
	{
		segment: "recordings", kind: KindRecording, typeName: "callRecording",
		odataType: "#Microsoft.Graph.callRecording", contentURL: "recordingContentUrl", mediaType: "video/mp4",
		perms: rest.Permissions{Delegated: []string{"OnlineMeetingRecording.Read.All"}, Application: []string{"OnlineMeetingRecording.Read.All"}, Personal: noMeetings},
		topics: func(m, u string) []string {
			return []string{change.AllRecordings(), change.MeetingRecordings(m), change.UserRecordings(u)}
		},
	},
}

// stored is an artifact as kept: the representation and the content apart.
type stored struct {
	Doc     map[string]any `json:"doc"`
	Content string         `json:"content"`
}

func (a *artifact) notFound(id string) error {
	return graph.Errorf(http.StatusNotFound, "NotFound", "The %s '%s' was not found.", a.typeName, id)
}

func (a *artifact) context(user, meeting string) string {
	return "users('" + user + "')/onlineMeetings('" + meeting + "')/" + a.segment
}

// meeting reads the meeting of a GET path after the permission and owner checks.
func (a *artifact) meeting(ctx context.Context, tx store.Tx, c *httpapi.Ctx) (store.Object, error) {
	p := c.Principal
	u, _, err := meetingOwner(ctx, tx, p, c.Param("user"))
	if err != nil {
		return store.Object{}, err
	}
	m, _, err := loadMeeting(ctx, tx, p.TenantID, u.ID, c.Param("meeting"))
	return m, err
}

func (a *artifact) load(ctx context.Context, tx store.Tx, c *httpapi.Ctx) (store.Object, stored, error) {
	var s stored
	m, err := a.meeting(ctx, tx, c)
	if err != nil {
		return m, s, err
	}
	o, err := tx.GetObject(ctx, m.Tenant, a.kind, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.Owner != m.ID) {
		return o, s, a.notFound(c.Param("id"))
	}
	if err != nil {
		return o, s, err
	}
	err = json.Unmarshal(o.Data, &s)
	return o, s, err
}

func (w *Workload) listArtifacts(a *artifact) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		if err := a.perms.Check(c.Principal); err != nil {
			return err
		}
		var value []map[string]any
		var m store.Object
		err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
			var err error
			if m, err = a.meeting(ctx, tx, c); err != nil {
				return err
			}
			objs, err := tx.ListObjects(ctx, store.ObjectQuery{Tenant: m.Tenant, Kind: a.kind, Owner: m.ID})
			if err != nil {
				return err
			}
			value = make([]map[string]any, 0, len(objs))
			for _, o := range objs {
				var s stored
				if err := json.Unmarshal(o.Data, &s); err != nil {
					return err
				}
				value = append(value, s.Doc)
			}
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortStableFunc(value, func(x, y map[string]any) int {
			return compareStrings(rest.Str(x["createdDateTime"]), rest.Str(y["createdDateTime"]))
		})
		return rest.Collection(c, a.context(m.Owner, m.ID), value, "")
	}
}

func compareStrings(x, y string) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func (w *Workload) getArtifact(a *artifact) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		if err := a.perms.Check(c.Principal); err != nil {
			return err
		}
		var s stored
		var o store.Object
		err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
			var err error
			o, s, err = a.load(ctx, tx, c)
			return err
		})
		if err != nil {
			return err
		}
		return rest.Entity(c, http.StatusOK, a.context(o.Parent, o.Owner)+"/$entity", s.Doc)
	}
}

func (w *Workload) getArtifactContent(a *artifact) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		if err := a.perms.Check(c.Principal); err != nil {
			return err
		}
		var s stored
		err := rest.View(c, w.st, func(ctx context.Context, tx store.Tx) error {
			var err error
			_, s, err = a.load(ctx, tx, c)
			return err
		})
		if err != nil {
			return err
		}
		return c.Write(http.StatusOK, a.mediaType, []byte(s.Content))
	}
}

// artifactProps are what an admin body may set on a transcript or recording.
var artifactProps = []string{"content", "callId", "contentCorrelationId", "createdDateTime", "endDateTime"}

// adminArtifact makes a transcript or recording of a meeting, as Teams does after
// a transcribed or recorded call, and records its "created" change.
func (w *Workload) adminArtifact(a *artifact) httpapi.HandlerFunc {
	return func(c *httpapi.Ctx) error {
		t, err := admin.Tenant(w.ident, c.Param("tenant"))
		if err != nil {
			return err
		}
		body, err := admin.Object(c)
		if err != nil {
			return err
		}
		for k, v := range body {
			if !slices.Contains(artifactProps, k) {
				return admin.BadRequest("Property '%s' does not exist on type 'microsoft.graph.%s'.", k, a.typeName)
			}
			if _, ok := v.(string); v != nil && !ok {
				return admin.BadRequest("Invalid value for property '%s': a string expected.", k)
			}
			if k == "createdDateTime" || k == "endDateTime" {
				if s, ok := v.(string); ok {
					if _, err := graph.ParseTime(s); err != nil {
						return admin.BadRequest("Invalid value for property '%s': a DateTimeOffset (RFC 3339) string expected.", k)
					}
				}
			}
		}
		now := graph.FormatTime(c.Now)
		var doc map[string]any
		err = rest.Update(c, w.st, func(ctx context.Context, tx store.Tx) error {
			m, _, err := loadMeeting(ctx, tx, t.ID, "", c.Param("meeting"))
			if err != nil {
				return err
			}
			id := newArtifactID()
			base := "https://graph.microsoft.com/v1.0/users/" + m.Owner + "/onlineMeetings/" + m.ID + "/" + a.segment + "/" + id
			doc = map[string]any{
				"id": id, "meetingId": m.ID,
				"callId":               str(body["callId"], uuid.NewString()),
				"contentCorrelationId": str(body["contentCorrelationId"], uuid.NewString()),
				"createdDateTime":      str(body["createdDateTime"], now),
				"endDateTime":          str(body["endDateTime"], now),
				"meetingOrganizer": map[string]any{"application": nil, "device": nil,
					"user": map[string]any{"id": m.Owner, "displayName": nil, "userIdentityType": "aadUser", "tenantId": t.ID}},
				a.contentURL: base + "/content",
			}
			if a.kind == KindTranscript {
				doc["metadataContentUrl"] = base + "/metadataContent"
			}
			content := str(body["content"], "")
			if content == "" && a.kind == KindTranscript {
				content = "WEBVTT\n"
			}
			data, err := json.Marshal(stored{Doc: doc, Content: content})
			if err != nil {
				return err
			}
			o := store.Object{Tenant: t.ID, Kind: a.kind, ID: id, Owner: m.ID, Parent: m.Owner, Data: data, Created: c.Now, Updated: c.Now}
			if err := tx.InsertObject(ctx, &o); err != nil {
				return err
			}
			after, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			res := "communications/onlineMeetings('" + m.ID + "')/" + a.segment + "('" + id + "')"
			return record(ctx, tx, &o, store.Created, a.topics(m.ID, m.Owner), nil, after,
				change.Notice{Resource: res, ODataType: a.odataType, ODataID: res, ID: id, Rich: true}, c)
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, doc)
	}
}

// newArtifactID makes an id shaped like Graph's transcript and recording ids
// (base64 of a version and a GUID), base64url so that it needs no escaping.
func newArtifactID() string {
	return base64URL("1##0##" + uuid.NewString())
}

func str(v any, def string) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return def
}
