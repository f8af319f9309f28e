package outlook_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
)

// TestMessagePagesFromStore: pages of messages in the default order are cut by the
// store (sort key index, OFFSET); the same requests with an explicit $orderby are
// ordered by the store over the data (store.OrderKey), and with a $filter it cannot
// translate by the in-memory evaluator (TestItemPagesMatchMemory compares the paths
// on generated mailboxes). Following nextLinks, all must list the same messages in
// the same order, in the mailbox and in a folder, with ties (messages made in one
// instant by sendMail's copies) included.
func TestMessagePagesFromStore(t *testing.T) {
	t.Parallel()
	env := setup(t)
	app := env.AppToken()
	base := "/v1.0/users/" + testserver.Adele
	for i := range 23 {
		if r := env.Do("POST", base+"/messages", app, map[string]any{"subject": fmt.Sprintf("m%d", i)}); r.Status != http.StatusCreated {
			t.Fatalf("POST message = %s", r)
		}
	}
	// sendMail to oneself: the sent copy and the inbox copy share a receivedDateTime.
	for i := range 3 {
		body := map[string]any{"message": map[string]any{"subject": fmt.Sprintf("s%d", i), "toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": testserver.AdeleUPN}}}}}
		if r := env.Do("POST", base+"/sendMail", app, body); r.Status != http.StatusAccepted {
			t.Fatalf("sendMail = %s", r)
		}
	}
	walk := func(first string) []string {
		var ids []string
		next := first
		for next != "" {
			r := env.Do("GET", next, app, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s = %s", next, r)
			}
			for _, v := range values(t, r) {
				ids = append(ids, str(v, "id"))
			}
			next, _ = r.JSON()["@odata.nextLink"].(string)
			if u, err := url.Parse(next); err == nil && next != "" {
				next = u.RequestURI()
			}
		}
		return ids
	}
	for _, coll := range []string{"/messages", "/mailFolders/inbox/messages", "/mailFolders/drafts/messages"} {
		pushed := walk(base + coll + "?$top=4&$select=subject")
		ordered := walk(base + coll + "?$top=4&$select=subject&$orderby=receivedDateTime%20desc")
		if len(pushed) == 0 || !slices.Equal(pushed, ordered) {
			t.Errorf("%s: default order pages %v, $orderby pages %v: want the same non-empty list", coll, pushed, ordered)
		}
		memory := walk(base + coll + "?$top=4&$select=subject&$orderby=receivedDateTime%20desc&$filter=" + url.QueryEscape("contains(subject, '')"))
		if !slices.Equal(pushed, memory) {
			t.Errorf("%s: store pages %v, in-memory pages %v: want the same list", coll, pushed, memory)
		}
		if all := walk(base + coll + "?$top=1000"); !slices.Equal(all, pushed) {
			t.Errorf("%s: one page %v, pages of 4 %v", coll, all, pushed)
		}
	}
}
