package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// KindDeviceCode is the store kind of device code sign-ins (tenant "", id the device
// code's hash, alt the user code), so any node of several can serve the page and the
// polling.
const KindDeviceCode = "deviceCode"

// Device code timing, as Entra's: fifteen minutes to sign in, a poll every five
// seconds. Entra does not answer slow_down (its documented errors are
// authorization_pending, authorization_declined, bad_verification_code and
// expired_token), so neither does graphhook.
const (
	deviceCodeLifetime = 15 * time.Minute
	deviceCodeInterval = 5
)

// Device code states.
const (
	deviceCodePending  = "pending"  // waiting for the user at /devicelogin
	deviceCodeApproved = "approved" // the user signed in; the next poll gets tokens
	deviceCodeRedeemed = "redeemed" // tokens were issued; the code is spent
)

// deviceCode is a stored device code sign-in.
type deviceCode struct {
	ClientID string       `json:"clientId"`
	Segment  string       `json:"segment"` // the authority's tenant part, lower case
	Scopes   scopeRequest `json:"scopes"`
	UserCode string       `json:"userCode"`
	Expires  time.Time    `json:"expires"`
	State    string       `json:"state"`
	TenantID string       `json:"tid,omitempty"`
	UserID   string       `json:"oid,omitempty"`
}

// userCodeAlphabet has no vowels (no words) and no look-alike characters.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"

func newUserCode() string {
	b := make([]byte, 9)
	rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b)
}

// serveDeviceCode answers POST /{tenant}/oauth2/v2.0/devicecode: it starts a device
// code sign-in and tells the user where to enter the code.
func (s *Service) serveDeviceCode(w http.ResponseWriter, r *http.Request, seg string) {
	now := s.cfg.Clock.Now()
	if !readPostForm(w, r, now) {
		return
	}
	kind := classify(seg)
	if kind == segTenant {
		if _, ok := s.Tenant(seg); !ok {
			writeOAuthError(w, r, now, errUnknownTenant(seg))
			return
		}
	}
	clientID := r.PostForm.Get("client_id")
	if clientID == "" {
		writeOAuthError(w, r, now, errMissing("client_id"))
		return
	}
	app, oerr := s.client(r.Context(), clientID)
	if oerr != nil {
		writeOAuthError(w, r, now, oerr)
		return
	}
	scopes, oerr := s.delegatedScopes(app, r.PostForm.Get("scope"))
	if oerr != nil {
		writeOAuthError(w, r, now, oerr)
		return
	}
	device, userCode := randomToken(32), newUserCode()
	data, _ := json.Marshal(deviceCode{ClientID: app.ClientID, Segment: strings.ToLower(seg), Scopes: scopes, UserCode: userCode, Expires: now.Add(deviceCodeLifetime), State: deviceCodePending})
	err := s.st.Update(r.Context(), func(tx store.Tx) error {
		return tx.InsertObject(r.Context(), &store.Object{Kind: KindDeviceCode, ID: handleID(device), Alt: userCode, Data: data, Created: now})
	})
	if err != nil {
		writeOAuthError(w, r, now, errTransient())
		return
	}
	verify := baseURL(r) + "/devicelogin"
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        userCode,
		"device_code":      device,
		"verification_uri": verify,
		"expires_in":       int(deviceCodeLifetime / time.Second),
		"interval":         deviceCodeInterval,
		"message":          "To sign in, use a web browser to open the page " + verify + " and enter the code " + userCode + " to authenticate.",
	})
}

// serveDeviceLogin is the page where a user enters a device's code and signs in.
func (s *Service) serveDeviceLogin(w http.ResponseWriter, r *http.Request) {
	page := pageData{Title: "Enter code", Action: r.URL.Path, AskCode: true}
	switch r.Method {
	case http.MethodGet:
		page.CSRF = csrfToken(w, r)
		page.UserCode = r.URL.Query().Get("otc")
		renderPage(w, http.StatusOK, page)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		errorPage(w, http.StatusMethodNotAllowed, oauthErr(http.StatusMethodNotAllowed, "invalid_request", 900561, "The page only accepts GET and POST requests."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil || !checkCSRF(r) {
		errorPage(w, http.StatusBadRequest, oauthErr(http.StatusBadRequest, "invalid_request", 90023, "The sign-in form expired or was posted from another site. Start the sign-in again."))
		return
	}
	page.CSRF = csrfToken(w, r)
	page.UserCode, page.Username = r.PostForm.Get("otc"), r.PostForm.Get("username")
	ctx := r.Context()
	now := s.cfg.Clock.Now()
	err := s.st.Update(ctx, func(tx store.Tx) error {
		o, err := tx.GetObjectByAlt(ctx, "", KindDeviceCode, cleanUserCode(page.UserCode))
		if errors.Is(err, store.ErrNotFound) {
			page.Error = "That code is not valid. Check the code and try again."
			return nil
		}
		if err != nil {
			return err
		}
		var dc deviceCode
		if err := json.Unmarshal(o.Data, &dc); err != nil {
			return err
		}
		if dc.State != deviceCodePending || !now.Before(dc.Expires) {
			page.Error = "That code has expired or was already used. Start the sign-in on your device again."
			return nil
		}
		app, oerr := s.client(ctx, dc.ClientID)
		if oerr != nil {
			page.Error = oerr.Description
			return nil
		}
		page.AppName = app.DisplayName
		kind, tenant := classify(dc.Segment), Tenant{}
		if kind == segTenant {
			tenant, _ = s.Tenant(dc.Segment)
		}
		t, u, oerr := s.signInUser(ctx, s.signInTenants(kind, tenant), app, page.Username, r.PostForm.Get("password"))
		if oerr != nil {
			page.Error = pageMessage(oerr)
			return nil
		}
		dc.State, dc.TenantID, dc.UserID = deviceCodeApproved, t.ID, u.ID
		o.Data, _ = json.Marshal(dc)
		return tx.UpdateObject(ctx, &o)
	})
	switch {
	case err != nil:
		errorPage(w, http.StatusInternalServerError, errTransient())
	case page.Error != "":
		renderPage(w, http.StatusOK, page)
	default:
		page.Done = "You have signed in to " + page.AppName + " on your device. You may now close this window."
		renderPage(w, http.StatusOK, page)
	}
}

// deviceCodeGrant is the device's polling: pending until the user signs in at
// /devicelogin, then the tokens, once.
func (s *Service) deviceCodeGrant(ctx context.Context, req *tokenRequest) (*TokenResponse, *OAuthError) {
	if oerr := req.authenticateClient(true); oerr != nil {
		return nil, oerr
	}
	code := req.form.Get("device_code")
	if code == "" {
		return nil, errMissing("device_code")
	}
	var dc deviceCode
	var oerr *OAuthError
	err := s.st.Update(ctx, func(tx store.Tx) error {
		// Update may run fn again: each run starts from nothing.
		dc, oerr = deviceCode{}, nil
		o, err := tx.GetObject(ctx, "", KindDeviceCode, handleID(code))
		if errors.Is(err, store.ErrNotFound) {
			oerr = oauthErr(http.StatusBadRequest, "bad_verification_code", 70000, "Provided grant is invalid or malformed. The device code was not recognized.")
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(o.Data, &dc); err != nil {
			return err
		}
		switch {
		case !strings.EqualFold(dc.ClientID, req.app.ClientID):
			oerr = oauthErr(http.StatusBadRequest, "bad_verification_code", 70000, "Provided grant is invalid or malformed. The device code was issued to a different client.")
		case dc.Segment != strings.ToLower(req.seg):
			oerr = oauthErr(http.StatusBadRequest, "invalid_grant", 700005, "Provided grant is intended to use against other tenant, thus rejected.")
		case dc.State == deviceCodeRedeemed:
			oerr = oauthErr(http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
		case dc.State == deviceCodePending && !req.now.Before(dc.Expires):
			oerr = oauthErr(http.StatusBadRequest, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
		case dc.State == deviceCodePending:
			oerr = oauthErr(http.StatusBadRequest, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
		default:
			dc.State = deviceCodeRedeemed
			o.Data, _ = json.Marshal(dc)
			return tx.UpdateObject(ctx, &o)
		}
		return nil
	})
	if err != nil {
		return nil, errTransient()
	}
	if oerr != nil {
		return nil, oerr
	}
	user, err := s.userByID(ctx, dc.TenantID, dc.UserID)
	if err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	c, err := s.credential(ctx, dc.TenantID, dc.UserID)
	if err != nil {
		return nil, oauthErr(http.StatusBadRequest, "invalid_grant", 50034, "The user account does not exist in the directory.")
	}
	return s.issueUserTokens(req, signIn{app: req.app, tid: dc.TenantID, user: user, roles: c.Roles, scopes: dc.Scopes, confidential: req.confidential})
}
