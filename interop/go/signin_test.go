package interop

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// person drives graphhook's sign-in pages over HTTP as someone in a browser would: it
// follows redirects, fills each form it is shown (the device code, the user's name, the
// password, or the user's entry where the page lists the tenant's accounts) and submits
// it, until a redirect leaves for the app's loopback redirect URI or a page asks for
// nothing more. It knows no field names: it reads the pages, so the pages stay free to
// change as long as a person could still use them.
type person struct {
	upn, password, userCode string
	// deliver: on reaching the app's redirect URI, send the browser's request there
	// (GET for a redirect, POST for a form_post page), as to MSAL's loopback listener.
	deliver bool
	client  *http.Client
	steps   []string // what it did, for failure messages
}

func newPerson(upn, password, userCode string) *person {
	jar, _ := cookiejar.New(nil)
	return &person{
		upn: upn, password: password, userCode: userCode,
		client: &http.Client{
			Jar: jar,
			// Redirects are followed by signIn itself, so that it can stop at the app's
			// redirect URI.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// maxSteps bounds a sign-in: a page that keeps coming back (a refused password) fails it.
const maxSteps = 12

// signIn starts at start and returns the redirect to the app's loopback redirect URI
// (nil when the flow ends on a page, as the device code flow does).
func (p *person) signIn(ctx context.Context, start string) (*url.URL, error) {
	method, target, form := http.MethodGet, start, url.Values(nil)
	for range maxSteps {
		req, err := p.request(ctx, method, target, form)
		if err != nil {
			return nil, err
		}
		p.steps = append(p.steps, method+" "+target)
		resp, err := p.client.Do(req)
		if err != nil {
			return nil, p.fail("%s %s: %v", method, target, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			next, err := resp.Request.URL.Parse(loc)
			if err != nil {
				return nil, p.fail("redirect to %q: %v", loc, err)
			}
			if isAppRedirect(next) {
				p.steps = append(p.steps, "redirect to the app: "+next.String())
				return next, p.toApp(ctx, http.MethodGet, next, nil)
			}
			method, target, form = http.MethodGet, next.String(), nil
			continue
		}
		if resp.StatusCode >= 400 {
			return nil, p.fail("%s %s = %s: %s", method, target, resp.Status, excerpt(body))
		}
		// Parsed as a browser without scripts sees it: <noscript> content is markup.
		doc, err := html.ParseWithOptions(strings.NewReader(string(body)), html.ParseOptionEnableScripting(false))
		if err != nil {
			return nil, p.fail("%s %s: not HTML: %v", method, target, err)
		}
		f := p.pickForm(doc)
		if f == nil {
			if href := p.accountLink(doc); href != "" {
				next, err := resp.Request.URL.Parse(href)
				if err != nil {
					return nil, p.fail("link %q: %v", href, err)
				}
				method, target, form = http.MethodGet, next.String(), nil
				continue
			}
			p.steps = append(p.steps, "final page: "+excerpt(body))
			return nil, nil
		}
		action, err := resp.Request.URL.Parse(f.action)
		if err != nil {
			return nil, p.fail("form action %q: %v", f.action, err)
		}
		if isAppRedirect(action) {
			// A form_post response: the browser posts the code to the app.
			p.steps = append(p.steps, f.method+" form to the app: "+action.String())
			err := p.toApp(ctx, f.method, action, f.values)
			q := action.Query()
			for k, vs := range f.values {
				q[k] = vs
			}
			action.RawQuery = q.Encode()
			return action, err
		}
		method, target, form = f.method, action.String(), f.values
	}
	return nil, p.fail("no end after %d steps", maxSteps)
}

// toApp sends the browser's last request, to the app's redirect URI, when p delivers.
func (p *person) toApp(ctx context.Context, method string, target *url.URL, form url.Values) error {
	if !p.deliver {
		return nil
	}
	req, err := p.request(ctx, method, target.String(), form)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return p.fail("%s %s (the app's redirect URI): %v", method, target, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return p.fail("%s %s (the app's redirect URI) = %s: %s", method, target, resp.Status, excerpt(body))
	}
	return nil
}

func (p *person) request(ctx context.Context, method, target string, form url.Values) (*http.Request, error) {
	if method == http.MethodPost {
		req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, p.fail("%s %s: %v", method, target, err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	if form != nil {
		u, err := url.Parse(target)
		if err != nil {
			return nil, p.fail("%s %s: %v", method, target, err)
		}
		u.RawQuery = form.Encode()
		target = u.String()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, p.fail("%s %s: %v", method, target, err)
	}
	return req, nil
}

func (p *person) fail(format string, args ...any) error {
	return fmt.Errorf("sign-in as %s: %s (steps: %s)", p.upn, fmt.Sprintf(format, args...), strings.Join(p.steps, " → "))
}

// isAppRedirect reports whether u is an app's loopback redirect URI (http on localhost
// or a loopback address), where a browser would hand over the authorization code.
func isAppRedirect(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback() && (u.Query().Has("code") || u.Query().Has("error"))
}

// filledForm is a form as a person would submit it.
type filledForm struct {
	method, action string
	values         url.Values
}

// pickForm fills the first form on the page that asks for something, else the first
// form of hidden fields only, which a browser with scripts submits by itself (as
// form_post pages do).
func (p *person) pickForm(doc *html.Node) *filledForm {
	var auto *filledForm
	for _, f := range findAll(doc, "form") {
		values, asks := p.fill(f)
		method := strings.ToUpper(attr(f, "method"))
		if method != http.MethodPost {
			method = http.MethodGet
		}
		ff := &filledForm{method: method, action: attr(f, "action"), values: values}
		if asks {
			return ff
		}
		if auto == nil && len(values) > 0 {
			auto = ff
		}
	}
	return auto
}

// fill returns the values a person submits with form f, and whether the form asked
// for anything (a field to type in, or a button to press).
func (p *person) fill(f *html.Node) (url.Values, bool) {
	v := url.Values{}
	asks := false
	var submits []*html.Node
	for _, in := range findAll(f, "input", "select", "textarea", "button") {
		name := attr(in, "name")
		typ := strings.ToLower(attr(in, "type"))
		switch {
		case in.Data == "button" || typ == "submit":
			if typ == "" || typ == "submit" {
				submits = append(submits, in)
				asks = true
			}
		case name == "":
		case in.Data == "select":
			v.Set(name, p.option(in))
			asks = true
		case typ == "hidden":
			v.Set(name, attr(in, "value"))
		case typ == "password":
			v.Set(name, p.password)
			asks = true
		case typ == "radio" || typ == "checkbox":
			if p.mine(attr(in, "value")) || (hasAttr(in, "checked") && v.Get(name) == "") {
				v.Set(name, attr(in, "value"))
			}
			asks = true
		default: // text, email, tel and the like: the person types
			v.Set(name, p.typed(in))
			asks = true
		}
	}
	// Press the button for this person's account where the page lists accounts, else
	// the first named button.
	var press *html.Node
	for _, b := range submits {
		if p.mine(attr(b, "value")) || p.mine(text(b)) {
			press = b
			break
		}
	}
	if press == nil {
		for _, b := range submits {
			if attr(b, "name") != "" {
				press = b
				break
			}
		}
	}
	if press != nil && attr(press, "name") != "" {
		v.Set(attr(press, "name"), attr(press, "value"))
	}
	return v, asks
}

// typed is what a person types into a text field: the device code where one is asked
// for, and otherwise the user name.
func (p *person) typed(in *html.Node) string {
	hint := strings.ToLower(attr(in, "name") + " " + attr(in, "id") + " " + attr(in, "placeholder") + " " + attr(in, "autocomplete"))
	if p.userCode != "" && (strings.Contains(hint, "code") || strings.Contains(hint, "otc")) {
		return p.userCode
	}
	if strings.Contains(hint, "user") || strings.Contains(hint, "login") || strings.Contains(hint, "email") ||
		strings.Contains(hint, "upn") || strings.Contains(hint, "account") || strings.ToLower(attr(in, "type")) == "email" {
		return p.upn
	}
	if v := attr(in, "value"); v != "" {
		return v
	}
	return p.upn
}

// option picks this person's entry in a list of accounts, else the selected option.
func (p *person) option(sel *html.Node) string {
	first, selected := "", ""
	for _, o := range findAll(sel, "option") {
		val := attr(o, "value")
		if !hasAttr(o, "value") {
			val = text(o)
		}
		if p.mine(val) || p.mine(text(o)) {
			return val
		}
		if first == "" {
			first = val
		}
		if hasAttr(o, "selected") {
			selected = val
		}
	}
	if selected != "" {
		return selected
	}
	return first
}

// accountLink is the link to this person's account on a page that lists them as links.
func (p *person) accountLink(doc *html.Node) string {
	for _, a := range findAll(doc, "a") {
		if p.mine(attr(a, "href")) || p.mine(text(a)) {
			return attr(a, "href")
		}
	}
	return ""
}

// mine reports whether s names this person's account.
func (p *person) mine(s string) bool {
	s = strings.ToLower(s)
	return s != "" && (strings.Contains(s, strings.ToLower(p.upn)) || strings.Contains(s, url.QueryEscape(strings.ToLower(p.upn))))
}

func findAll(n *html.Node, tags ...string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, t := range tags {
				if n.Data == t {
					out = append(out, n)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data + " ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// excerpt is the start of a page's text, for failure messages.
func excerpt(body []byte) string {
	s := string(body)
	if doc, err := html.Parse(strings.NewReader(s)); err == nil {
		s = strings.Join(strings.Fields(text(doc)), " ")
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
