package identity

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ServeEndpoint serves the identity endpoints Microsoft's sign-in libraries call, for
// a request whose path is /{first}/{rest}: instance discovery, user realm, the OpenID
// configuration (v1 and v2), the signing keys, the token, authorize and device code
// endpoints and the device login page. It returns the route name for metrics, or ""
// (having written nothing) when the path is none of them.
func (s *Service) ServeEndpoint(w http.ResponseWriter, r *http.Request, first, rest string) string {
	lower := strings.ToLower(rest)
	if strings.EqualFold(first, "devicelogin") && rest == "" {
		s.serveDeviceLogin(w, r)
		return "devicelogin"
	}
	if first == "" {
		return ""
	}
	switch {
	case strings.EqualFold(first, "common") && lower == "discovery/instance":
		s.serveInstanceDiscovery(w, r)
		return "instance"
	case strings.EqualFold(first, "common") && strings.HasPrefix(lower, "userrealm/"):
		s.serveUserRealm(w, r, rest[len("userrealm/"):])
		return "userrealm"
	case lower == "oauth2/v2.0/token" || lower == "oauth2/token":
		s.serveToken(w, r, first)
		return "token"
	case lower == "oauth2/v2.0/authorize" || lower == "oauth2/authorize":
		s.serveAuthorize(w, r, first)
		return "authorize"
	case lower == "oauth2/v2.0/devicecode" || lower == "oauth2/devicecode":
		s.serveDeviceCode(w, r, first)
		return "devicecode"
	case lower == "v2.0/.well-known/openid-configuration":
		s.serveOpenIDConfiguration(w, r, first, true)
		return "discovery"
	case lower == ".well-known/openid-configuration":
		s.serveOpenIDConfiguration(w, r, first, false)
		return "discovery"
	case lower == "discovery/v2.0/keys" || lower == "discovery/keys":
		writeJSON(w, http.StatusOK, s.JWKS())
		return "keys"
	}
	return ""
}

// serveInstanceDiscovery answers GET /common/discovery/instance, which MSAL calls for
// an authority it does not know. Through the proxy the answer is Entra's own (its
// hosts are aliases of one another); directly graphhook's host is its only alias.
func (s *Service) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Clock.Now()
	q := r.URL.Query()
	base := baseURL(r)
	authorize := q.Get("authorization_endpoint")
	if authorize == "" {
		authorize = base + "/common/oauth2/v2.0/authorize"
	}
	u, err := url.Parse(authorize)
	if err != nil || u.Host == "" {
		writeOAuthError(w, r, now, oauthErr(http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance."))
		return
	}
	host := u.Hostname()
	if !s.servesHost(r, u) {
		writeOAuthError(w, r, now, oauthErr(http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance."))
		return
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	if tenant == "" {
		tenant = "common"
	}
	type metadata struct {
		PreferredNetwork string   `json:"preferred_network"`
		PreferredCache   string   `json:"preferred_cache"`
		Aliases          []string `json:"aliases"`
	}
	md := []metadata{{PreferredNetwork: u.Host, PreferredCache: u.Host, Aliases: []string{u.Host}}}
	if isEntraHost(host) {
		md = []metadata{{PreferredNetwork: entraHosts[0], PreferredCache: entraHosts[1], Aliases: entraHosts}}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": u.Scheme + "://" + u.Host + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  md,
	})
}

// servesHost reports whether an authority URL reaches graphhook: the host the request
// came to, Entra's hosts when it came to one of them (through the proxy), graphhook's
// public URL, or a loopback address. MSAL asks Entra's instance discovery about any
// authority it does not know, so through the proxy graphhook is asked about its own
// direct address too.
func (s *Service) servesHost(r *http.Request, u *url.URL) bool {
	host := u.Hostname()
	switch {
	case strings.EqualFold(u.Host, r.Host):
		return true
	case isEntraHost(host):
		return isEntraHost(hostOnly(r.Host))
	case host == "localhost" || net.ParseIP(host).IsLoopback():
		return true
	}
	pub, err := url.Parse(s.cfg.PublicURL)
	return err == nil && strings.EqualFold(pub.Host, u.Host)
}

func hostOnly(hostport string) string {
	if u, err := url.Parse("//" + hostport); err == nil {
		return u.Hostname()
	}
	return hostport
}

// serveOpenIDConfiguration answers the v2 (/{tenant}/v2.0/.well-known/...) and v1
// (/{tenant}/.well-known/...) OpenID configuration. Every URL in it is on the host the
// client used, so the issuer matches the authority the client was configured with.
func (s *Service) serveOpenIDConfiguration(w http.ResponseWriter, r *http.Request, seg string, v2 bool) {
	base := baseURL(r)
	issuerTenant, pathTenant := "{tenantid}", strings.ToLower(seg)
	switch classify(seg) {
	case segConsumers:
		issuerTenant = ConsumersTenant
	case segTenant:
		t, ok := s.Tenant(seg)
		if !ok || t.ID == ConsumersTenant && !v2 {
			writeOAuthError(w, r, s.cfg.Clock.Now(), errUnknownTenant(seg))
			return
		}
		issuerTenant, pathTenant = t.ID, t.ID
	}
	graphHost := hostOnly(r.Host)
	if isEntraHost(graphHost) {
		graphHost = "graph.microsoft.com"
	} else {
		graphHost = r.Host
	}
	doc := map[string]any{
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"request_uri_parameter_supported":       false,
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"claims_supported":                      []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          graphHost,
		"userinfo_endpoint":                     "https://" + graphHost + "/oidc/userinfo",
	}
	prefix := base + "/" + pathTenant
	if v2 {
		doc["issuer"] = v2Issuer(base, issuerTenant)
		doc["authorization_endpoint"] = prefix + "/oauth2/v2.0/authorize"
		doc["token_endpoint"] = prefix + "/oauth2/v2.0/token"
		doc["device_authorization_endpoint"] = prefix + "/oauth2/v2.0/devicecode"
		doc["end_session_endpoint"] = prefix + "/oauth2/v2.0/logout"
		doc["jwks_uri"] = prefix + "/discovery/v2.0/keys"
	} else {
		doc["issuer"] = v1Issuer(issuerTenant)
		doc["authorization_endpoint"] = prefix + "/oauth2/authorize"
		doc["token_endpoint"] = prefix + "/oauth2/token"
		doc["device_authorization_endpoint"] = prefix + "/oauth2/devicecode"
		doc["end_session_endpoint"] = prefix + "/oauth2/logout"
		doc["jwks_uri"] = base + "/common/discovery/keys"
	}
	writeJSON(w, http.StatusOK, doc)
}

func errUnknownTenant(seg string) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_tenant", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", seg)
}

// consumerDomains are the domains of Microsoft's personal accounts.
var consumerDomains = []string{"outlook.com", "hotmail.com", "live.com", "msn.com", "passport.com"}

// serveUserRealm answers GET /common/UserRealm/{user}: MSAL asks it before the
// password grant. Work tenants are "Managed" (graphhook signs their users in
// itself), personal accounts "MSA", anything else "Unknown".
func (s *Service) serveUserRealm(w http.ResponseWriter, r *http.Request, escaped string) {
	name, err := url.PathUnescape(escaped)
	if err != nil {
		name = escaped
	}
	domain := strings.ToLower(name[strings.LastIndex(name, "@")+1:])
	kind := "Unknown"
	switch {
	case s.isPersonalAccount(r, name) || containsFold(consumerDomains, domain):
		kind = "MSA"
	default:
		if t, ok := s.Tenant(domain); ok && t.ID != ConsumersTenant {
			kind = "Managed"
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ver":                 "1.0",
		"account_type":        kind,
		"domain_name":         domain,
		"cloud_instance_name": "microsoftonline.com",
		"cloud_audience_urn":  "urn:federation:MicrosoftOnline",
	})
}

func (s *Service) isPersonalAccount(r *http.Request, upn string) bool {
	_, err := s.userByUPN(r.Context(), ConsumersTenant, upn)
	return err == nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
