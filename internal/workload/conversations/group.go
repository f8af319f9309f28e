package conversations

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/graphhook/graphhook/internal/graph"
	"github.com/graphhook/graphhook/internal/identity"
	"github.com/graphhook/graphhook/internal/store"
)

// openGroup loads the group, refuses groups without conversations, and checks that a
// delegated caller belongs to it.
func (w *Workload) openGroup(o *op, id string) error {
	id = strings.ToLower(id)
	g, err := o.tx.GetObject(o.ctx, o.p.TenantID, identity.KindGroup, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.Deleted) {
		return graph.Errorf(http.StatusNotFound, graph.CodeRequestResourceNotFound, "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(g.Data, &o.groupDoc); err != nil {
		return err
	}
	types, _ := o.groupDoc["groupTypes"].([]any)
	if !slices.ContainsFunc(types, func(t any) bool { s, _ := t.(string); return strings.EqualFold(s, "Unified") }) {
		return graph.ExchangeInvalidRequest("Conversations are available only in Microsoft 365 groups (groupTypes containing 'Unified').")
	}
	o.group = g.ID
	if !o.p.Type.Delegated() {
		name, _ := o.groupDoc["displayName"].(string)
		nick, _ := o.groupDoc["mailNickname"].(string)
		addr, _ := o.groupDoc["mail"].(string)
		if addr == "" {
			if t, ok := w.ident.Tenant(o.p.TenantID); ok {
				addr = nick + "@" + t.Domain
			}
		}
		o.sender = map[string]any{"emailAddress": map[string]any{"name": name, "address": addr}}
		return nil
	}
	member, err := identity.IsGroupMember(o.ctx, o.tx, o.p.TenantID, g.ID, o.p.UserID)
	if err != nil {
		return err
	}
	if !member {
		return graph.ExchangeAccessDenied()
	}
	u, err := o.tx.GetObject(o.ctx, o.p.TenantID, identity.KindUser, strings.ToLower(o.p.UserID))
	if err != nil {
		return err
	}
	var ud struct {
		DisplayName string `json:"displayName"`
		Mail        string `json:"mail"`
		UPN         string `json:"userPrincipalName"`
	}
	json.Unmarshal(u.Data, &ud)
	if ud.Mail == "" {
		ud.Mail = ud.UPN
	}
	o.sender = map[string]any{"emailAddress": map[string]any{"name": ud.DisplayName, "address": ud.Mail}}
	return nil
}
