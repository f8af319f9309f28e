package identity

import (
	"net/http"
	"slices"
	"strings"
)

// baseURL is the scheme and host a request reached graphhook by. Issuers and links
// follow it, so they match the authority a client was configured with: through the
// intercepting proxy that is Entra's own host, directly it is graphhook's address.
// A TLS-terminating reverse proxy in front says https with X-Forwarded-Proto.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// entraHosts are the host names of Entra's public cloud that answer for one another,
// in the order of Entra's instance discovery answer.
var entraHosts = []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"}

// isEntraHost reports whether host (without a port) is one of Entra's public cloud.
func isEntraHost(host string) bool {
	return slices.Contains(entraHosts, strings.ToLower(host))
}

// v1Issuer is the issuer of v1 tokens (Graph's access tokens): fixed, whatever host
// issued them, so tokens survive a change of graphhook's URL or port.
func v1Issuer(tid string) string { return "https://sts.windows.net/" + tid + "/" }

// v2Issuer is the issuer of v2 tokens (id tokens) issued through base.
func v2Issuer(base, tid string) string { return base + "/" + tid + "/v2.0" }

// Issuer is the iss claim of access tokens for tenant tid.
func (s *Service) Issuer(tid string) string { return v1Issuer(tid) }

// tenantSegment classifies the tenant part of an authority URL.
type tenantSegment string

const (
	segCommon        tenantSegment = "common"
	segOrganizations tenantSegment = "organizations"
	segConsumers     tenantSegment = "consumers"
	segTenant        tenantSegment = "" // a tenant id or domain
)

func classify(seg string) tenantSegment {
	switch strings.ToLower(seg) {
	case "common":
		return segCommon
	case "organizations":
		return segOrganizations
	case "consumers":
		return segConsumers
	}
	return segTenant
}
