package subscription

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/httpapi"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/odata"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/store"
)

// Target is a subscription's resource after normalisation: what the pipeline matches
// changes against, and what the permission checks need.
type Target struct {
	resource.Target
	Desc *resource.Descriptor
	// Filter is the $filter text, "" when none; it compiled with odata.ParseFilter.
	Filter string
	// Model is the licensing model the resource names ("A", "B"; "" for Graph's
	// evaluation model).
	Model string
	// Search is the $search keyword, unquoted ("" when none).
	Search string
}

// parsedResource is a resource string split into its path and query options.
type parsedResource struct {
	raw    string
	desc   *resource.Descriptor
	path   *resource.Path
	ids    []string
	filter *odata.Filter
	model  string
	search string
	// selected tells whether the resource names properties with $select.
	selected bool
}

// parseResource checks the shape of a resource string (no store access): the path
// must be one of the descriptors' paths and the query options allowed on it. me is
// resolved to the caller.
func (s *Service) parseResource(raw string, p *identity.Principal) (*parsedResource, error) {
	notSupported := graph.Errorf(http.StatusBadRequest, graph.CodeInvalidRequest, "resource '%s' is not supported.", raw)
	path, query, _ := strings.Cut(raw, "?")
	// Graph wants the path relative to the service root; an absolute URL or a
	// version segment names no resource it knows.
	if strings.Contains(path, "://") {
		return nil, notSupported
	}
	segs, err := httpapi.SplitPath(path)
	if err != nil || len(segs) == 0 {
		return nil, notSupported
	}
	if strings.EqualFold(segs[0], "me") {
		if !p.Type.Delegated() {
			return nil, graph.Errorf(http.StatusBadRequest, graph.CodeBadRequest, "/me request is only valid with delegated authentication flow.")
		}
		segs = append([]string{"users", p.UserID}, segs[1:]...)
	}
	d, pt, ids := s.catalog.Match(segs)
	if pt == nil || (pt.PersonalOnly && p.Type != identity.DelegatedPersonal && !strings.EqualFold(ids[len(ids)-1], "root")) {
		return nil, notSupported
	}
	pr := &parsedResource{raw: raw, desc: d, path: pt, ids: ids}
	if err := pr.parseQuery(query); err != nil {
		return nil, err
	}
	return pr, nil
}

// parseQuery checks the resource's query options. Names match case-insensitively
// and with or without '$', as Graph's do; values are percent-decoded but '+' is kept,
// because filters carry it in time offsets.
func (pr *parsedResource) parseQuery(query string) error {
	if query == "" {
		return nil
	}
	opts := pr.path.Options
	for part := range strings.SplitSeq(query, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		if v, err := url.PathUnescape(value); err == nil {
			value = v
		}
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
		option := "$" + strings.ToLower(strings.TrimPrefix(name, "$"))
		switch {
		case option == "$filter" && opts&resource.AllowFilter != 0:
			if pr.filter != nil {
				return invalidRequest("Query option '$filter' is specified more than once in resource '%s'.", pr.raw)
			}
			f, err := odata.ParseFilter(value)
			if err != nil {
				return invalidRequest("%s", err.Error())
			}
			if opts&resource.FilterParticipantsOnly != 0 {
				for _, prop := range f.Properties() {
					if !strings.EqualFold(prop, "participants") && !strings.EqualFold(prop, "participants/id") {
						return invalidRequest("Invalid $filter clause: call record subscriptions filter on participants/id only, not on '%s'.", prop)
					}
				}
			}
			pr.filter = f
		case option == "$select" && opts&resource.AllowSelect != 0:
			fields, err := odata.ParseSelect(value)
			if err != nil {
				return invalidRequest("%s", err.Error())
			}
			for _, f := range fields {
				if strings.EqualFold(f, "body") || strings.EqualFold(f, "uniqueBody") {
					return invalidRequest("Invalid $select clause: '%s' cannot be selected in a subscription.", f)
				}
			}
			pr.selected = pr.selected || len(fields) > 0
		case option == "$model" && opts&resource.AllowModel != 0:
			// Graph's licensing models are the letters A and B.
			if pr.model != "" {
				return invalidRequest("Query option 'model' is specified more than once in resource '%s'.", pr.raw)
			}
			m := strings.ToUpper(strings.TrimSpace(value))
			if m != "A" && m != "B" {
				return invalidRequest("Invalid value '%s' for query option 'model' in resource '%s'; the supported models are A and B.", value, pr.raw)
			}
			pr.model = m
		case option == "$search" && opts&resource.AllowSearch != 0:
			// Graph's examples send the keyword bare ($search=Hello) and OData's
			// form quotes it; both name the same keyword.
			if pr.search != "" {
				return invalidRequest("Query option '$search' is specified more than once in resource '%s'.", pr.raw)
			}
			kw := strings.TrimSpace(value)
			if len(kw) >= 2 && kw[0] == '"' && kw[len(kw)-1] == '"' {
				kw = strings.TrimSpace(kw[1 : len(kw)-1])
			}
			if kw == "" {
				return invalidRequest("Invalid $search clause: a keyword is required in resource '%s'.", pr.raw)
			}
			pr.search = kw
		default:
			return invalidRequest("Query option '%s' is not supported in resource '%s'.", strings.TrimSpace(name), pr.raw)
		}
	}
	return nil
}

// ownsUser tells whether the delegated caller is the user a path names (by id or UPN).
func ownsUser(p *identity.Principal, idOrUPN string) bool {
	return strings.EqualFold(idOrUPN, p.UserID) || (p.UPN != "" && strings.EqualFold(idOrUPN, p.UPN))
}

// resolve runs the permission checks and existence checks of a parsed resource in
// tx, in the order that leaks nothing: permission type and names first, then
// (delegated) ownership and the resource's read-access rule, then existence.
func (pr *parsedResource) resolve(ctx context.Context, tx store.Tx, p *identity.Principal, op string) (Target, error) {
	d, pt := pr.desc, pr.path
	variant := pt.Variant
	if d.PersonalVariant != "" && p.TenantID == identity.ConsumersTenant {
		variant = d.PersonalVariant
	}
	if !d.CanSubscribe(p, variant) {
		return Target{}, missingPermission(op, d, variant, p)
	}
	if p.Type.Delegated() && pt.OwnUser && !ownsUser(p, pr.ids[0]) {
		return Target{}, notOwnUser(op, d, variant)
	}
	if pt.CanRead != nil {
		if err := pt.CanRead(ctx, tx, p, pr.ids); errors.Is(err, resource.ErrAccessDenied) {
			return Target{}, readDenied(op, err, d, variant)
		} else if err != nil {
			return Target{}, err
		}
	}
	r := &resource.Resolver{
		Ctx: ctx, Tx: tx, Principal: p, Resource: pr.raw,
		NotFoundError: func(msg string) error { return extensionError(http.StatusNotFound, op, "NotFound", msg) },
		InvalidError:  func(msg string) error { return invalidRequest("%s", msg) },
	}
	rt, err := pt.Resolve(r, pr.ids)
	if err != nil {
		return Target{}, err
	}
	// Drives reached by id: a delegated caller may watch its own drive and shared
	// libraries, never another user's OneDrive.
	if p.Type.Delegated() && rt.User != "" && rt.User != p.UserID {
		return Target{}, notOwnUser(op, d, variant)
	}
	rt.Variant = variant
	t := Target{Target: rt, Desc: d}
	if pr.filter != nil {
		t.Filter = pr.filter.String()
	}
	t.Model, t.Search = pr.model, pr.search
	if pr.search != "" && pt.SearchIn != "" {
		// The keyword narrows the notifications as a $filter would: the matcher
		// evaluates one expression per subscription.
		kw := "contains(" + pt.SearchIn + ",'" + strings.ReplaceAll(pr.search, "'", "''") + "')"
		if t.Filter != "" {
			kw = "(" + t.Filter + ") and " + kw
		}
		if _, err := odata.ParseFilter(kw); err != nil {
			return Target{}, invalidRequest("Invalid $search clause in resource '%s'.", pr.raw)
		}
		t.Filter = kw
	}
	return t, nil
}
