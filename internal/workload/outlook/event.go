package outlook

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	_ "time/tzdata" // event time zones must resolve on hosts without zoneinfo

	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/workload/rest"
)

// localLayout is how Graph writes dateTimeTimeZone values: no offset, seven digits.
const localLayout = "2006-01-02T15:04:05.0000000"

// windowsZones maps the Windows time zone names Outlook clients send to IANA zones.
var windowsZones = map[string]string{
	"utc":                            "UTC",
	"gmt standard time":              "Europe/London",
	"greenwich standard time":        "Atlantic/Reykjavik",
	"w. europe standard time":        "Europe/Berlin",
	"romance standard time":          "Europe/Paris",
	"central europe standard time":   "Europe/Budapest",
	"e. europe standard time":        "Europe/Chisinau",
	"pacific standard time":          "America/Los_Angeles",
	"mountain standard time":         "America/Denver",
	"central standard time":          "America/Chicago",
	"eastern standard time":          "America/New_York",
	"india standard time":            "Asia/Kolkata",
	"china standard time":            "Asia/Shanghai",
	"tokyo standard time":            "Asia/Tokyo",
	"aus eastern standard time":      "Australia/Sydney",
	"singapore standard time":        "Asia/Singapore",
	"e. south america standard time": "America/Sao_Paulo",
}

// zone resolves a time zone name: UTC, a Windows name or an IANA name.
func zone(name string) (*time.Location, error) {
	if iana, ok := windowsZones[strings.ToLower(name)]; ok {
		name = iana
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone '%s' is not supported", name)
	}
	return loc, nil
}

// parseDateTimeTimeZone reads {"dateTime", "timeZone"}: a local time read in the
// zone, or a time with an offset, which then wins over the zone.
func parseDateTimeTimeZone(m map[string]any) (time.Time, string, error) {
	for k := range m {
		if !strings.EqualFold(k, "dateTime") && !strings.EqualFold(k, "timeZone") {
			return time.Time{}, "", fmt.Errorf("'%s' is not a property of dateTimeTimeZone", k)
		}
	}
	var dt, tz string
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return time.Time{}, "", fmt.Errorf("'%s' must be a string", k)
		}
		if strings.EqualFold(k, "dateTime") {
			dt = s
		} else {
			tz = s
		}
	}
	if dt == "" || tz == "" {
		return time.Time{}, "", fmt.Errorf("dateTime and timeZone are required")
	}
	loc, err := zone(tz)
	if err != nil {
		return time.Time{}, "", err
	}
	if t, err := time.Parse(time.RFC3339Nano, dt); err == nil {
		return t, tz, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.9999999", dt, loc)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("'%s' is not a valid dateTime", dt)
	}
	return t, tz, nil
}

var attendee = func(name string, v any) (any, error) {
	a, err := object("Microsoft.OutlookServices.Attendee", map[string]rule{
		"emailAddress": emailAddress,
		"type":         enum("required", "optional", "resource"),
	}, map[string]any{"type": "required"})(name, v)
	if err != nil {
		return nil, err
	}
	m := a.(map[string]any)
	ea, _ := m["emailAddress"].(map[string]any)
	if ea == nil || ea["address"] == nil {
		return nil, graph.ExchangeInvalidProperty("Invalid value for property '%s': an attendee needs emailAddress/address.", name)
	}
	if ea["name"] == nil {
		ea["name"] = ea["address"]
	}
	m["status"] = map[string]any{"response": "none", "time": "0001-01-01T00:00:00Z"}
	return m, nil
}

var location = object("Microsoft.OutlookServices.Location", map[string]rule{
	"displayName":  str,
	"locationType": enum("default", "conferenceRoom", "homeAddress", "businessAddress", "geoCoordinates", "streetAddress", "hotel", "restaurant", "localBusiness", "postalAddress"),
	"locationUri":  str,
	"address":      physicalAddress,
}, map[string]any{"displayName": "", "locationType": "default"})

var eventSchema = schema{
	typeName: "Microsoft.OutlookServices.Event",
	writable: map[string]rule{
		"subject":                    str,
		"body":                       itemBody,
		"start":                      dateTimeTimeZone,
		"end":                        dateTimeTimeZone,
		"location":                   location,
		"attendees":                  list(attendee),
		"isAllDay":                   boolean,
		"showAs":                     enum("free", "tentative", "busy", "oof", "workingElsewhere", "unknown"),
		"importance":                 enum("low", "normal", "high"),
		"sensitivity":                enum("normal", "personal", "private", "confidential"),
		"categories":                 strList,
		"isReminderOn":               boolean,
		"reminderMinutesBeforeStart": integer,
		"responseRequested":          boolean,
		"isOnlineMeeting":            boolean,
	},
	readOnly: []string{"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "organizer", "isCancelled",
		"isOrganizer", "bodyPreview", "iCalUId", "type", "seriesMasterId", "responseStatus", "hasAttachments",
		"originalStartTimeZone", "originalEndTimeZone", "calendar"},
}

func (w *Workload) eventRoutes(r *httpapi.Router) {
	for _, base := range []string{"users/{user}/events", "users/{user}/calendar/events"} {
		r.Handle("GET", base, w.listEvents)
		r.Handle("POST", base, w.createEvent)
		r.Handle("GET", base+"/{id}", w.getEvent)
		r.Handle("PATCH", base+"/{id}", w.updateEvent)
		r.Handle("DELETE", base+"/{id}", w.deleteEvent)
	}
	r.Handle("GET", "users/{user}/calendarView", w.calendarView)
	r.Handle("GET", "users/{user}/calendar/calendarView", w.calendarView)
	r.Handle("GET", "users/{user}/calendarView/delta", w.calendarViewDelta)
	r.Handle("GET", "users/{user}/calendar", w.getCalendar)
}

// eventTopics are the topics a change to an event touches; events have no per-folder
// topic, so the calendar does not matter.
func eventTopics(mb mailbox, _ string) []string { return []string{change.UserEvents(mb.user)} }

func (w *Workload) getCalendar(c *httpapi.Ctx) error {
	var mb mailbox
	err := w.run(c, false, func(o *op) error {
		var err error
		mb, err = o.mailbox(c.Param("user"), calRead)
		return err
	})
	if err != nil {
		return err
	}
	return rest.Entity(c, http.StatusOK, userPath(mb)+"/calendars/$entity", map[string]any{
		"id": change.DefaultCalendarID(mb.user), "name": "Calendar", "color": "auto", "isDefaultCalendar": true,
		"canEdit": true, "canShare": true, "canViewPrivateItems": true, "isRemovable": false,
		"owner": map[string]any{"name": mb.name, "address": mb.address},
	})
}

func (o *op) newEvent(mb mailbox, _ string) map[string]any {
	now := o.now.Format(timeLayout)
	id := newID("AAMkAD")
	return map[string]any{
		"id": id, "createdDateTime": now, "lastModifiedDateTime": now, "changeKey": "", "categories": []any{},
		"originalStartTimeZone": "UTC", "originalEndTimeZone": "UTC", "iCalUId": "040000008200E00074C5B7101A82E008" + strings.ToUpper(fmt.Sprintf("%x", []byte(id[6:22]))),
		"reminderMinutesBeforeStart": 15, "isReminderOn": true, "hasAttachments": false, "subject": "", "bodyPreview": "",
		"importance": "normal", "sensitivity": "normal", "isAllDay": false, "isCancelled": false, "isOrganizer": true,
		"responseRequested": true, "seriesMasterId": nil, "showAs": "busy", "type": "singleInstance", "isOnlineMeeting": false,
		"responseStatus": map[string]any{"response": "organizer", "time": "0001-01-01T00:00:00Z"},
		"body":           map[string]any{"contentType": "text", "content": ""},
		"location":       map[string]any{"displayName": "", "locationType": "default"},
		"attendees":      []any{},
		"organizer":      mb.recipient(),
	}
}

// applyEvent sets body's properties on doc and checks the result: start and end
// present, end not before start, all-day events whole days.
func applyEvent(doc, body map[string]any) error {
	for _, side := range []string{"start", "end"} {
		for k, v := range body {
			if m, ok := v.(map[string]any); ok && strings.EqualFold(k, side) {
				if _, tz, err := parseDateTimeTimeZone(m); err == nil {
					doc["original"+strings.ToUpper(side[:1])+side[1:]+"TimeZone"] = tz
				}
			}
		}
	}
	if err := eventSchema.apply(doc, body, nil); err != nil {
		return err
	}
	if doc["start"] == nil || doc["end"] == nil {
		return graph.ExchangeInvalidRequest("An event needs both 'start' and 'end'.")
	}
	start, end := eventTime(doc, "start"), eventTime(doc, "end")
	if end.Before(start) {
		return graph.ExchangeInvalidProperty("The end time of an event must not be before its start time.")
	}
	if doc["isAllDay"] == true {
		loc, err := zone(doc["originalStartTimeZone"].(string))
		if err != nil {
			loc = time.UTC
		}
		s, e := start.In(loc), end.In(loc)
		if s.Hour()+s.Minute()+s.Second() != 0 || e.Hour()+e.Minute()+e.Second() != 0 || !e.After(s) {
			return graph.ExchangeInvalidProperty("An all-day event must start and end at midnight and last at least one day.")
		}
	}
	setPreview(doc)
	return nil
}

// eventTime reads the UTC start or end of a stored event.
func eventTime(doc map[string]any, side string) time.Time {
	m, _ := doc[side].(map[string]any)
	s, _ := m["dateTime"].(string)
	t, _ := time.Parse("2006-01-02T15:04:05.9999999", s)
	return t
}

// mayOverlap is a store condition that holds for every event overlaps keeps, and for
// few others: it starts no later than to and ends no earlier than from, compared as
// text in localLayout (which drops what is finer than its seven digits, hence the
// inclusive bounds).
func mayOverlap(from, to time.Time) *store.Cond {
	start := store.Prop{Path: "start/dateTime", Type: store.PropTime, Layout: localLayout}
	end := store.Prop{Path: "end/dateTime", Type: store.PropTime, Layout: localLayout}
	return &store.Cond{Op: store.CondAnd, Sub: []store.Cond{
		{Op: store.CondLe, Prop: start, Value: to.UTC().Format(localLayout)},
		{Op: store.CondGe, Prop: end, Value: from.UTC().Format(localLayout)},
	}}
}

// overlaps reports whether the event falls in [from, to): it starts before to and ends
// after from (an event of no duration counts where it starts).
func overlaps(doc map[string]any, from, to time.Time) bool {
	s, e := eventTime(doc, "start"), eventTime(doc, "end")
	if s.Equal(e) {
		return !s.Before(from) && s.Before(to)
	}
	return s.Before(to) && e.After(from)
}

// eventDocs reads the events of {user} that keep accepts (nil keeps all), narrowed
// by the store as q allows (see listQuery.storeQuery): paged tells that docs are the
// page itself, which only a nil keep allows.
func (w *Workload) eventDocs(c *httpapi.Ctx, q listQuery, keep func(map[string]any) bool, within *store.Cond) (mb mailbox, docs []map[string]any, paged bool, err error) {
	err = w.run(c, false, func(o *op) error {
		var err error
		if mb, err = o.mailbox(c.Param("user"), calRead); err != nil {
			return err
		}
		query := store.ObjectQuery{Tenant: mb.tenant, Kind: kindEvent, Owner: mb.user}
		if keep == nil {
			if query, paged, err = q.storeQuery(o, eventType, query); err != nil {
				return err
			}
		} else {
			// The store narrows the events to those within may keep and the filter
			// may match; keep and the filter decide.
			var where []store.Cond
			if within != nil {
				where = append(where, *within)
			}
			if q.filter != nil {
				if c, _ := q.filter.StoreCond(propsOf(kindEvent)); c != nil {
					where = append(where, *c)
				}
			}
			if where != nil {
				query.Where = &store.Cond{Op: store.CondAnd, Sub: where}
			}
		}
		docs, err = o.listDocs(query, keep)
		return err
	})
	return mb, docs, paged, err
}

func (w *Workload) listEvents(c *httpapi.Ctx) error {
	q, err := parseList(c, []odata.OrderKey{{Property: "start/dateTime"}})
	if err != nil {
		return err
	}
	mb, docs, paged, err := w.eventDocs(c, q, nil, nil)
	if err != nil {
		return err
	}
	if paged {
		return writeStorePage(c, userPath(mb)+"/events", q, docs, selectView(nil, q.fields))
	}
	return writeList(c, userPath(mb)+"/events", q, docs, selectView(nil, q.fields))
}

// window reads calendarView's startDateTime and endDateTime.
func window(c *httpapi.Ctx) (time.Time, time.Time, error) {
	s, e := c.Query("startDateTime"), c.Query("endDateTime")
	if s == "" || e == "" {
		return time.Time{}, time.Time{}, graph.Errorf(http.StatusBadRequest, codeInvalidParameter, "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
	}
	from, err1 := graph.ParseTime(s)
	to, err2 := graph.ParseTime(e)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, graph.Errorf(http.StatusBadRequest, codeInvalidParameter, "The value of StartDateTime or EndDateTime is not a valid date and time.")
	}
	if to.Before(from) {
		return time.Time{}, time.Time{}, graph.Errorf(http.StatusBadRequest, codeInvalidParameter, "The parameter 'EndDateTime' must be on or after 'StartDateTime'.")
	}
	return from, to, nil
}

func (w *Workload) calendarView(c *httpapi.Ctx) error {
	from, to, err := window(c)
	if err != nil {
		return err
	}
	q, err := parseList(c, []odata.OrderKey{{Property: "start/dateTime"}})
	if err != nil {
		return err
	}
	mb, docs, _, err := w.eventDocs(c, q, func(d map[string]any) bool { return overlaps(d, from, to) }, mayOverlap(from, to))
	if err != nil {
		return err
	}
	return writeList(c, userPath(mb)+"/calendarView", q, docs, selectView(nil, q.fields))
}

func (w *Workload) calendarViewDelta(c *httpapi.Ctx) error {
	var opts map[string]string
	if c.Query("$deltatoken") == "" && c.Query("$skiptoken") == "" {
		from, to, err := window(c)
		if err != nil {
			return err
		}
		opts = map[string]string{"from": from.Format(time.RFC3339Nano), "to": to.Format(time.RFC3339Nano)}
	}
	keep := func(doc map[string]any, opts map[string]string) bool {
		from, _ := time.Parse(time.RFC3339Nano, opts["from"])
		to, _ := time.Parse(time.RFC3339Nano, opts["to"])
		return overlaps(doc, from, to)
	}
	return w.serveDeltaOf(c, calRead, opts, func(o *op, mb mailbox) (deltaRound, error) {
		return deltaRound{
			topic:     change.UserEvents(mb.user),
			odataType: "#microsoft.graph.event",
			fragment:  "Collection(event)",
			query:     store.ObjectQuery{Tenant: mb.tenant, Kind: kindEvent, Owner: mb.user},
			keep:      keep,
			render:    func(doc map[string]any, _ map[string]string) map[string]any { return doc },
		}, nil
	})
}

// event loads an event of the mailbox.
func (o *op) event(c *httpapi.Ctx, mb mailbox) (store.Object, map[string]any, error) {
	return o.getItem(mb, kindEvent, c.Param("id"))
}

// calendarParent is where new events go: the default calendar, the only one served.
func calendarParent(_ *op, _ *httpapi.Ctx, mb mailbox) (string, error) {
	return change.DefaultCalendarID(mb.user), nil
}

func (w *Workload) getEvent(c *httpapi.Ctx) error    { return w.getOne(c, eventAPI) }
func (w *Workload) createEvent(c *httpapi.Ctx) error { return w.createOne(c, eventAPI) }
func (w *Workload) updateEvent(c *httpapi.Ctx) error { return w.updateOne(c, eventAPI) }
func (w *Workload) deleteEvent(c *httpapi.Ctx) error { return w.deleteOne(c, eventAPI) }
