package sqlstore

import (
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/store"
)

// TestClaimCache: entries are taken once; the newer generation turns older exactly
// when an entry would take it past its bytes, and the older one is dropped at the
// turn after; a claim of another URL's row, or of a row never kept, finds nothing;
// a claimer's append to a payload does not write into the queuer's array.
func TestClaimCache(t *testing.T) {
	row := func(id int64, payload string) *store.Notification {
		return &store.Notification{ID: id, URL: "https://a.test/", Tenant: "t", SubscriptionID: "s", Event: "created",
			Payload: []byte(payload), Created: time.Unix(0, id).UTC()}
	}
	one := entrySize(row(1, "0123456789"))
	c := newClaimCache(3 * one)
	take := func(id int64, url string) (store.Notification, bool) {
		n := store.Notification{ID: id, URL: url}
		ok := c.take(&n)
		return n, ok
	}

	c.put([]*store.Notification{row(1, "0123456789"), row(2, "0123456789"), row(3, "0123456789"), {URL: "https://a.test/"}})
	if len(c.cur) != 3 || c.old != nil || c.bytes != 3*one {
		t.Fatalf("after 3 rows of %d bytes in a generation of %d: %d current, %v old, %d bytes; want 3 current, none old (the id 0 row not kept)", one, 3*one, len(c.cur), c.old, c.bytes)
	}
	c.put([]*store.Notification{row(4, "0123456789")})
	if len(c.cur) != 1 || len(c.old) != 3 {
		t.Fatalf("one entry past the generation: %d current, %d old; want 1, 3", len(c.cur), len(c.old))
	}
	if n, ok := take(2, "https://a.test/"); !ok || string(n.Payload) != "0123456789" || n.Tenant != "t" || n.Event != "created" || !n.Created.Equal(time.Unix(0, 2)) {
		t.Errorf("take(2) from the older generation = %+v, %v", n, ok)
	}
	if _, ok := take(2, "https://a.test/"); ok {
		t.Error("take(2) a second time found it")
	}
	if _, ok := take(3, "https://b.test/"); ok {
		t.Error("take(3) for another URL found it")
	}
	if _, ok := take(3, "https://a.test/"); ok {
		t.Error("take(3) after a take for another URL found it: the entry should go with the first take")
	}
	if _, ok := take(99, "https://a.test/"); ok {
		t.Error("take(99), never kept, found it")
	}

	// Two more turns drop row 1, still in the older generation after the first.
	c.put([]*store.Notification{row(5, "0123456789"), row(6, "0123456789"), row(7, "0123456789")})
	if _, ok := c.old[1]; ok {
		t.Fatal("row 1 still kept two generations on")
	}
	if _, ok := take(1, "https://a.test/"); ok {
		t.Error("take(1), dropped with its generation, found it")
	}

	queued := row(8, "0123456789")
	queued.Payload = append(make([]byte, 0, 64), queued.Payload...)
	c.put([]*store.Notification{queued})
	n, ok := take(8, "https://a.test/")
	if !ok {
		t.Fatal("take(8) found nothing")
	}
	_ = append(n.Payload, "XYZ"...)
	if got := string(queued.Payload[:cap(queued.Payload)][10:13]); got == "XYZ" {
		t.Error("an append to the taken payload wrote into the queuer's array")
	}
}
