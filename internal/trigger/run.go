package trigger

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// uniquePlaceholder, in a sample's body, stands for a value unique to each change.
const uniquePlaceholder = "unique"

// placeholderRE matches a sample's placeholders.
var placeholderRE = regexp.MustCompile(`\{[A-Za-z]+\}`)

// run is one Request in progress: its tenant, user and the objects found so far.
type run struct {
	t      *Trigger
	d      *resource.Descriptor
	sample *resource.Sample
	c      *caller
	tenant string
	user   string            // the user's object id
	vars   map[string]string // placeholder name → value
	// given are the placeholders the caller named: never replaced by fresh objects.
	given map[string]bool
	calls []Call
	n     int // changes made so far
}

func (t *Trigger) newRun(ctx context.Context, req Request, d *resource.Descriptor, sample *resource.Sample) (*run, error) {
	tenantRef := req.Tenant
	if tenantRef == "" {
		tenantRef = t.defaultTenant()
		if tenantRef == "" {
			return nil, badRequest("The server has several tenants: name one with 'tenantId'.")
		}
	}
	if sample.Personal {
		// A personal account's change: made in the consumers tenant, as its user,
		// through any app that holds the delegated permission (personal accounts
		// may sign in to every app).
		if req.Tenant != "" && !strings.EqualFold(req.Tenant, identity.ConsumersTenant) && !strings.EqualFold(req.Tenant, "consumers") {
			return nil, badRequest("Type '%s' is a personal account's change; it is made in the consumers tenant, not in '%s'.", cmp.Or(sample.Name, d.Type), req.Tenant)
		}
		tenantRef = identity.ConsumersTenant
	}
	ten, ok := t.cfg.Identity.Tenant(tenantRef)
	if !ok || (ten.ID == identity.ConsumersTenant && !sample.Personal) {
		return nil, badRequest("Tenant '%s' does not exist.", tenantRef)
	}
	var apps []identity.App
	var err error
	if sample.Personal {
		apps, err = t.cfg.Identity.AllApps(ctx)
	} else {
		apps, err = t.cfg.Identity.Apps(ctx, ten.ID)
	}
	if err != nil {
		return nil, err
	}
	r := &run{t: t, d: d, sample: sample, tenant: ten.ID, vars: map[string]string{"tenant": ten.ID}, given: map[string]bool{}}
	r.c = &caller{t: t, tenant: ten.ID, apps: apps, tokens: map[string]string{}, calls: &r.calls}
	if r.user, err = t.findUser(ctx, ten.ID, req.User); err != nil {
		return nil, err
	}
	r.vars["user"] = r.user
	if req.User != "" {
		r.given["user"] = true
	}
	for name, v := range req.Params {
		if !slices.Contains(Placeholders, name) {
			return nil, badRequest("Unknown parameter '%s'; the parameters are %s.", name, strings.Join(Placeholders, ", "))
		}
		if strings.TrimSpace(v) == "" {
			return nil, badRequest("Parameter '%s' is empty.", name)
		}
		switch name {
		case "tenant":
			if !strings.EqualFold(v, ten.ID) && !strings.EqualFold(v, ten.Domain) {
				return nil, badRequest("Parameter 'tenant' names another tenant than the request's (%s); use 'tenantId'.", ten.ID)
			}
			continue
		case "user":
			if r.user, err = t.findUser(ctx, ten.ID, v); err != nil {
				return nil, err
			}
			v = r.user
		}
		r.vars[name], r.given[name] = v, true
	}
	// Every placeholder the sample needs, except {id}, is found once for all the
	// changes; a placeholder the sample deletes is made anew for each change.
	for _, ph := range r.placeholders(sample) {
		if ph == "id" || ph == uniquePlaceholder || r.fresh(sample, ph) {
			continue
		}
		if _, err := r.resolve(ctx, ph); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// defaultTenant is Config.DefaultTenant, or the only tenant ("" when several).
func (t *Trigger) defaultTenant() string {
	if t.cfg.DefaultTenant != "" {
		return t.cfg.DefaultTenant
	}
	if ts := t.cfg.Identity.Tenants(); len(ts) == 1 {
		return ts[0].ID
	}
	return ""
}

// findUser resolves a user id or UPN of tenant to its id; "" picks the default user:
// the demo tenant's first fixture user (the one the README's examples watch), or the
// tenant's first user by id.
func (t *Trigger) findUser(ctx context.Context, tenant, ref string) (string, error) {
	demo := identity.DemoFixture().Tenants[0]
	if ref == "" && strings.EqualFold(tenant, demo.ID) {
		ref = demo.Users[0].UserPrincipalName
	}
	var id string
	err := t.cfg.Store.View(ctx, func(tx store.Tx) error {
		var o store.Object
		var err error
		switch {
		case ref == "":
			var objs []store.Object
			if objs, err = tx.ListObjects(ctx, store.ObjectQuery{Tenant: tenant, Kind: identity.KindUser, Limit: 1}); err == nil {
				if len(objs) == 0 {
					return badRequest("Tenant %s has no users.", tenant)
				}
				o = objs[0]
			}
		case strings.Contains(ref, "@"):
			o, err = tx.GetObjectByAlt(ctx, tenant, identity.KindUser, strings.ToLower(ref))
		default:
			o, err = tx.GetObject(ctx, tenant, identity.KindUser, strings.ToLower(ref))
			if err == nil && o.Deleted {
				err = store.ErrNotFound
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			return badRequest("User '%s' does not exist in tenant %s.", ref, tenant)
		}
		id = o.ID
		return err
	})
	return id, err
}

// placeholders lists the names a sample's paths and bodies use, in order.
func (r *run) placeholders(s *resource.Sample) []string {
	var out []string
	for _, req := range s.Requests {
		for _, m := range placeholderRE.FindAllString(req.Path+" "+req.Body, -1) {
			if name := m[1 : len(m)-1]; !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// fresh reports whether each change needs a new object for placeholder ph (a user, a
// group) that the caller did not name: the sample asks for one (Sample.Fresh), or it
// deletes the object, which must then be one trigger made, never the demo's fixture
// objects.
func (r *run) fresh(s *resource.Sample, ph string) bool {
	if r.given[ph] || freshOf(ph) == nil {
		return false
	}
	if slices.Contains(s.Fresh, ph) {
		return true
	}
	return slices.ContainsFunc(s.Requests, func(req resource.Request) bool {
		return req.Method == "DELETE" && strings.HasSuffix(req.Path, "/{"+ph+"}") && !strings.Contains(req.Path, "deletedItems")
	})
}

// change makes one change: fresh objects the sample deletes or asks for, the object {id} names
// when the caller did not, then the sample's requests; and reads back what they
// queued.
func (r *run) change(ctx context.Context) (Result, error) {
	r.calls = nil
	r.n++
	var seq, mark int64
	if err := r.t.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if seq, err = tx.LastSeq(ctx); err != nil {
			return err
		}
		mark, err = tx.LastNotificationID(ctx)
		return err
	}); err != nil {
		return Result{}, err
	}
	vars := maps.Clone(r.vars)
	// A sample that sets a property of a long-lived object (a user's job title) says
	// {unique} in its body, so that every change changes something: the same value
	// twice would record no change, and notify nobody.
	vars[uniquePlaceholder] = strconv.Itoa(r.n) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, ph := range r.placeholders(r.sample) {
		if r.fresh(r.sample, ph) {
			v, err := freshOf(ph)(ctx, r)
			if err != nil {
				return Result{}, err
			}
			vars[ph] = v
		}
	}
	if _, ok := vars["id"]; !ok && slices.Contains(r.placeholders(r.sample), "id") {
		id, err := r.createFirst(ctx, vars)
		if err != nil {
			return Result{}, err
		}
		vars["id"] = id
	}
	resourcePath, err := r.send(ctx, r.sample, vars)
	if err != nil {
		return Result{}, err
	}
	delete(vars, uniquePlaceholder)
	res := Result{Type: cmp.Or(r.sample.Name, r.d.Type), ChangeType: r.sample.ChangeType, Requests: r.calls, Resource: resourcePath, Params: vars, Expected: []Expected{}}
	err = r.t.cfg.Store.View(ctx, func(tx store.Tx) error {
		end, err := tx.LastSeq(ctx)
		if err != nil {
			return err
		}
		rows, err := tx.NotificationsAfter(ctx, mark, 0)
		if err != nil {
			return err
		}
		for _, n := range rows {
			if n.Lifecycle || n.Seq <= seq || n.Seq > end || n.Tenant != r.tenant {
				continue
			}
			res.Expected = append(res.Expected, Expected{SubscriptionID: n.SubscriptionID, URL: n.URL, ChangeType: n.Event, DeliveryID: strconv.FormatInt(n.ID, 10)})
		}
		return nil
	})
	return res, err
}

// createFirst makes the object an updated or deleted sample changes: with the
// type's created sample, as the same caller when the change is a signed-in user's
// (a user edits the messages they sent).
func (r *run) createFirst(ctx context.Context, vars map[string]string) (string, error) {
	var created *resource.Sample
	for i := range r.d.Samples {
		if r.d.Samples[i].ChangeType == store.Created {
			created = &r.d.Samples[i]
		}
	}
	if created == nil {
		return "", badRequest("Type '%s' has no 'created' change to make the object its '%s' change needs: name it with the parameter 'id'.", r.d.Type, r.sample.ChangeType)
	}
	s := *created
	if r.sample.Delegated {
		s.Delegated, s.Permission, s.Admin = true, r.sample.Permission, false
	}
	for _, ph := range r.placeholders(&s) {
		if r.fresh(&s, ph) {
			v, err := freshOf(ph)(ctx, r)
			if err != nil {
				return "", err
			}
			vars[ph] = v
			continue
		}
		if _, ok := vars[ph]; !ok && ph != "id" && ph != uniquePlaceholder {
			v, err := r.resolve(ctx, ph)
			if err != nil {
				return "", err
			}
			vars[ph] = v
		}
	}
	last, err := r.sendRaw(ctx, &s, vars)
	if err != nil {
		return "", err
	}
	id, _ := last.object()["id"].(string)
	if id == "" {
		return "", badRequest("The '%s' change of type '%s' returned no id to change next.", store.Created, r.d.Type)
	}
	return id, nil
}

// send runs a sample's requests and returns the path of what changed.
func (r *run) send(ctx context.Context, s *resource.Sample, vars map[string]string) (string, error) {
	last, err := r.sendRaw(ctx, s, vars)
	if err != nil {
		return "", err
	}
	final := s.Requests[len(s.Requests)-1]
	path := substitute(final.Path, vars, url.PathEscape)
	if id, ok := last.object()["id"].(string); ok && final.Method == "POST" && !strings.HasSuffix(path, "/"+url.PathEscape(id)) {
		path += "/" + url.PathEscape(id)
	}
	return path, nil
}

// sendRaw runs a sample's requests and returns the last answer.
func (r *run) sendRaw(ctx context.Context, s *resource.Sample, vars map[string]string) (response, error) {
	a := auth{admin: s.Admin, perms: []string{s.Permission}}
	if s.Delegated {
		a.user = vars["user"]
	}
	var last response
	for _, req := range s.Requests {
		path := substitute(req.Path, vars, url.PathEscape)
		body := substitute(req.Body, vars, jsonEscape)
		var err error
		if last, err = r.c.do(ctx, a, req.Method, path, body); err != nil {
			return last, err
		}
	}
	return last, nil
}

// substitute replaces the placeholders vars knows, escaping each value.
func substitute(s string, vars map[string]string, escape func(string) string) string {
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return escape(v)
		}
		return m
	})
}

// jsonEscape escapes a value for use inside a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
