package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/resource"
	"github.com/graphhook/graphhook/internal/trigger"
)

const triggerUsage = `Usage: graphhook trigger TYPE [flags]
       graphhook trigger list

Makes a realistic change of a resource type through the server's own Graph API (or its
admin API where Graph has no write call), in the demo tenant as Adele unless told
otherwise, and prints what it changed and the notifications it expects: one line per
subscription that the change reaches.

Examples:
  graphhook trigger message
  graphhook trigger message --change updated --count 5 --rate 2/s
  graphhook trigger chatMessage --set chat=19:abc@thread.v2
  graphhook trigger user --change updated --user bruno@contoso.onmicrosoft.com
  graphhook trigger list

The admin key is --admin-key, or GRAPHHOOK_ADMIN_KEY, or the file a dev server writes
to its data folder (--data, default ./graphhook-data).

Flags:
`

func runTrigger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trigger", stderr)
	var (
		change, tenant, user, server, adminKey, data, rate string
		count                                              int
		list, asJSON                                       bool
		sets                                               setFlag
	)
	fs.StringVar(&change, "change", "", "change type: created, updated or deleted (default: the type's first, created where it has one)")
	fs.StringVar(&tenant, "tenant", "", "tenant id or domain (default: the demo tenant)")
	fs.StringVar(&user, "user", "", "user id or UPN the change concerns or is made as (default: adele@contoso.onmicrosoft.com in the demo tenant)")
	fs.Var(&sets, "set", "name=value: the object a placeholder stands for ("+strings.Join(trigger.Placeholders, ", ")+"); repeatable")
	fs.IntVar(&count, "count", 1, "how many changes to make")
	fs.StringVar(&rate, "rate", "", "changes per second with --count, e.g. 5/s (default: as fast as the server takes them)")
	fs.StringVar(&server, "server", "http://127.0.0.1:8787", "graphhook's base URL")
	fs.StringVar(&adminKey, "admin-key", "", "the server's admin key (default: <data>/admin-key)")
	fs.StringVar(&data, "data", "./graphhook-data", "the dev server's data folder, where it writes its admin key")
	fs.BoolVar(&list, "list", false, "list the types and their change types")
	fs.BoolVar(&asJSON, "json", false, "print the server's JSON answer instead of text")
	// A bad flag gets one line pointing at the help, not the whole help.
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "run graphhook help trigger for the flags and examples") }
	typ := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		typ, args = args[0], args[1:]
	}
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		fs.SetOutput(stdout)
		printTriggerUsage(fs)
		return nil
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	usage := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "graphhook trigger: "+format+"\n", a...)
		return errUsage
	}
	if typ == "list" {
		typ, list = "", true
	}
	if typ == "" && !list {
		return usage("name a type, e.g. graphhook trigger message (graphhook trigger list shows them)")
	}
	if list && (typ != "" || change != "" || len(sets) > 0) {
		return usage("--list takes no type, --change or --set")
	}
	if count < 1 || count > trigger.MaxCount {
		return usage("--count must be between 1 and %d, not %d", trigger.MaxCount, count)
	}
	perSecond, err := parseRate(rate)
	if err != nil {
		return usage("%v", err)
	}
	if perSecond > 0 && count == 1 {
		return usage("--rate paces the changes of --count; add --count")
	}
	if adminKey == "" {
		raw, err := os.ReadFile(filepath.Join(data, app.AdminKeyFile))
		if err != nil {
			return usage("no admin key: pass --admin-key or set GRAPHHOOK_ADMIN_KEY, or run it where the dev server's data folder is (--data %s: %v)", data, errors.Unwrap(err))
		}
		adminKey = strings.TrimSpace(string(raw))
	}
	c := &adminClient{base: strings.TrimRight(server, "/"), key: adminKey, http: &http.Client{Timeout: 5 * time.Minute}}
	if list {
		return c.list(ctx, stdout, asJSON)
	}
	body := map[string]any{"type": typ}
	if change != "" {
		body["changeType"] = change
	}
	if tenant != "" {
		body["tenantId"] = tenant
	}
	if user != "" {
		body["userId"] = user
	}
	if len(sets) > 0 {
		body["params"] = map[string]string(sets)
	}
	// Without a rate the server makes the changes back to back in one request; with
	// one, each change is its own request, sent on the beat.
	requests, each := 1, count
	if perSecond > 0 {
		requests, each = count, 1
	}
	var tick *time.Ticker
	if perSecond > 0 {
		tick = time.NewTicker(time.Duration(float64(time.Second) / perSecond))
		defer tick.Stop()
	}
	for i := range requests {
		if i > 0 && tick != nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
		if each > 1 {
			body["count"] = each
		}
		raw, status, err := c.do(ctx, "POST", body)
		if err != nil {
			return err
		}
		if status == http.StatusBadRequest {
			return usage("%s", graphError(raw))
		}
		if status != http.StatusOK {
			return fmt.Errorf("POST /_graphhook/trigger: %d %s", status, graphError(raw))
		}
		if asJSON {
			stdout.Write(append(bytes.TrimSpace(raw), '\n'))
			continue
		}
		var answer struct {
			Value []trigger.Result `json:"value"`
		}
		if err := json.Unmarshal(raw, &answer); err != nil {
			return fmt.Errorf("POST /_graphhook/trigger: %v", err)
		}
		for _, res := range answer.Value {
			printResult(stdout, res)
		}
	}
	return nil
}

func printTriggerUsage(fs *flag.FlagSet) {
	w := fs.Output()
	io.WriteString(w, triggerUsage)
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(w, "  --%s%s\n    \t%s", f.Name, name, help)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "1" && !strings.Contains(help, "default") {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// setFlag collects --set name=value.
type setFlag map[string]string

func (s *setFlag) String() string { return "" }

func (s *setFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" || value == "" {
		return fmt.Errorf("want name=value, e.g. chat=19:abc@thread.v2")
	}
	if !slices.Contains(trigger.Placeholders, name) {
		return fmt.Errorf("unknown name %q; the names are %s", name, strings.Join(trigger.Placeholders, ", "))
	}
	if *s == nil {
		*s = setFlag{}
	}
	(*s)[name] = value
	return nil
}

var rateRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(?:/s)?$`)

// parseRate reads "N/s" or "N"; "" is no rate.
func parseRate(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	m := rateRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("--rate %q: want changes per second, e.g. 5/s", s)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	if v <= 0 || v > 1000 {
		return 0, fmt.Errorf("--rate %q: want more than 0 and at most 1000/s", s)
	}
	return v, nil
}

// adminClient calls /_graphhook/trigger.
type adminClient struct {
	base, key string
	http      *http.Client
}

func (c *adminClient) do(ctx context.Context, method string, body any) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/_graphhook/trigger", rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s /_graphhook/trigger: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusUnauthorized {
		return raw, resp.StatusCode, fmt.Errorf("%s /_graphhook/trigger: 401: the admin key is not this server's (--admin-key, GRAPHHOOK_ADMIN_KEY or <data>/admin-key)", method)
	}
	return raw, resp.StatusCode, err
}

func (c *adminClient) list(ctx context.Context, stdout io.Writer, asJSON bool) error {
	raw, status, err := c.do(ctx, "GET", nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET /_graphhook/trigger: %d %s", status, graphError(raw))
	}
	if asJSON {
		stdout.Write(append(bytes.TrimSpace(raw), '\n'))
		return nil
	}
	var answer struct {
		Value []trigger.Type `json:"value"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return fmt.Errorf("GET /_graphhook/trigger: %v", err)
	}
	fmt.Fprintf(stdout, "%-16s %s\n", "TYPE", "CHANGE TYPES")
	for _, ty := range answer.Value {
		fmt.Fprintf(stdout, "%-16s %s\n", ty.Type, strings.Join(ty.ChangeTypes, ", "))
	}
	return nil
}

// graphError is the message of a Graph error envelope, or the body.
func graphError(raw []byte) string {
	var env struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &env) == nil && env.Error.Message != "" {
		return env.Error.Message
	}
	return string(bytes.TrimSpace(raw))
}

// printResult prints one change: its requests, what changed, and the notifications
// expected, or how to listen for the next one when no subscription sees it.
func printResult(w io.Writer, res trigger.Result) {
	fmt.Fprintf(w, "%s %s: %s\n", res.Type, res.ChangeType, res.Resource)
	for _, c := range res.Requests {
		fmt.Fprintf(w, "  %s /%s → %d\n", c.Method, c.Path, c.Status)
	}
	if len(res.Expected) == 0 {
		fmt.Fprintln(w, "  expect no notification: no subscription watches it")
		if hint := listenHint(res); hint != "" {
			fmt.Fprintf(w, "  to see the next one: %s\n", hint)
		}
		return
	}
	noun := "notifications"
	if len(res.Expected) == 1 {
		noun = "notification"
	}
	fmt.Fprintf(w, "  expect %d %s:\n", len(res.Expected), noun)
	for _, e := range res.Expected {
		fmt.Fprintf(w, "    %s  subscription %s  to %s  (delivery %s)\n", e.ChangeType, e.SubscriptionID, e.URL, e.DeliveryID)
	}
}

// listenHint is a graphhook listen command for a resource path of the type whose
// objects the change's params name.
func listenHint(res trigger.Result) string {
	for _, d := range app.Resources() {
		if d.Type != res.Type {
			continue
		}
		for _, p := range d.Paths {
			if p.ChangeTypes != nil && !slices.Contains(p.ChangeTypes, res.ChangeType) {
				continue
			}
			if path, ok := fill(p, res.Params); ok {
				return fmt.Sprintf("graphhook listen --resource %q --change-type %s", "/"+path, res.ChangeType)
			}
		}
	}
	return ""
}

var holeRE = regexp.MustCompile(`\{[A-Za-z]+\}`)

// fill puts params into a path pattern; ok is false when one is missing.
func fill(p resource.Path, params map[string]string) (string, bool) {
	ok := true
	path := holeRE.ReplaceAllStringFunc(p.Pattern, func(m string) string {
		v, found := params[m[1:len(m)-1]]
		ok = ok && found
		return v
	})
	return path, ok
}
