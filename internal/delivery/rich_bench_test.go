package delivery

// The benchmarks here measure issue 7's figure: the extra CPU per notification of a
// rich notification over a basic one on the dispatcher's body-building path
// (Pipeline.body), target ≤ 60 µs. They live in the package because that path is
// unexported; they call it exactly as send does, on a batch as claim builds it.
//
//	go test ./internal/delivery/ -run '^$' -bench 'Body|RichExtra' -benchtime 2s
//
// A rich item costs a fresh AES key, AES-256-CBC and HMAC-SHA256 over the
// resource, an RSA-OAEP wrap for the 2048-bit certificate and the encryptedContent
// JSON; a rich batch costs one validation token per (app, tenant), minted with an
// RS256 signature and then reused for hours (tokenCache). The "cold-token" cases sign
// one for every POST: the cost of a batch that needs a fresh token.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/certgen"
	"github.com/graphhook/graphhook/internal/change"
	"github.com/graphhook/graphhook/internal/richdata"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/workload/teams"
	"github.com/graphhook/graphhook/receiver"
)

const (
	benchTenant = "6f1c2d3e-0000-4000-8000-000000000001"
	benchApp    = "11111111-0000-4000-8000-000000000001"
	benchChat   = "19:8ea0e38b-efb3-4757-924a-5f94061cf8c2_97f62344-57dc-409c-88ad-c4af14158ff5@unq.gbl.spaces"
)

// benchMessage is a chatMessage as the teams workload stores it, about 1 KB: what a
// rich notification encrypts.
var benchMessage = []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#chats('` + benchChat + `')/messages/$entity",` +
	`"id":"1767268800000","replyToId":null,"etag":"1767268800000","messageType":"message",` +
	`"createdDateTime":"2026-01-01T12:00:00Z","lastModifiedDateTime":"2026-01-01T12:00:00Z","lastEditedDateTime":null,` +
	`"deletedDateTime":null,"subject":null,"summary":null,"chatId":"` + benchChat + `","importance":"normal","locale":"en-us",` +
	`"webUrl":null,"channelIdentity":null,"policyViolation":null,"eventDetail":null,` +
	`"from":{"application":null,"device":null,"user":{"@odata.type":"#microsoft.graph.teamworkUserIdentity",` +
	`"id":"22222222-0000-4000-8000-000000000001","displayName":"Adele Vance","userIdentityType":"aadUser","tenantId":"` + benchTenant + `"}},` +
	`"body":{"contentType":"html","content":"<p>Hello team, the quarterly numbers are in. Please review the attached deck ` +
	`before Thursday's meeting and add your comments inline. Thanks!</p>"},"attachments":[],"mentions":[],"reactions":[]}`)

// bodyBench is a pipeline with a real signer and the rows of one batch, for a basic
// and for a rich subscription on the same chat.
type bodyBench struct {
	p            *Pipeline
	key          *rsa.PrivateKey // the subscriber's certificate key
	basic, rich  *subInfo
	rows         []store.Notification
	richRows     []store.Notification
	batchScratch batch
}

func setupBodyBench(tb testing.TB, size int) *bodyBench {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	keys, err := benchKeys()
	if err != nil {
		tb.Fatal(err)
	}
	signKey, certKey := keys[0], keys[1]
	p, err := New(Config{}, Options{Store: st, Signer: richdata.RSASigner{Key: signKey, KeyID: "bench"}, Resources: teams.Resources(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cert, err := certgen.New(certgen.Options{CommonName: "bench", Key: certKey, Serial: big.NewInt(1),
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)})
	if err != nil {
		tb.Fatal(err)
	}
	sub := store.Subscription{ID: "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", Tenant: benchTenant, AppID: benchApp,
		ResourceType: teams.ChatMessageResource, Variant: teams.VariantChat, Topic: change.ChatMessages(benchChat), ChangeTypes: "created",
		NotificationURL: "https://webhook.example.com/api/notify", ClientState: "secretClientValue",
		Expiration: now.Add(time.Hour), Version: 1}
	richSub := sub
	richSub.IncludeResourceData = true
	richSub.Data, _ = json.Marshal(map[string]any{"encryptionCertificate": cert.Base64(),
		"encryptionCertificateId": "bench-cert"})
	bb := &bodyBench{p: p, key: certKey, basic: newSubInfo(sub), rich: newSubInfo(richSub)}
	if bb.rich.err != nil {
		tb.Fatalf("newSubInfo(rich subscription): %v", bb.rich.err)
	}
	for i := range size {
		id := fmt.Sprint(1767268800000 + i)
		res := "chats('" + benchChat + "')/messages('" + id + "')"
		notice := change.Notice{Resource: res, ODataType: "#Microsoft.Graph.chatMessage", ODataID: res, ID: id, Rich: true}
		row := store.Notification{ID: int64(i + 1), URL: sub.NotificationURL, Tenant: benchTenant, SubscriptionID: sub.ID,
			ResourceType: sub.ResourceType, Event: "created", Resource: res, Seq: int64(i + 1), Created: now,
			Payload: renderResourceData(&notice, &store.Change{Tenant: benchTenant, Time: now, Seq: int64(i + 1)})}
		bb.rows = append(bb.rows, row)
		row.Rich = benchMessage
		bb.richRows = append(bb.richRows, row)
	}
	return bb
}

// benchKeys are the signing and certificate keys, made once per process: generating
// them takes longer than a benchmark.
var benchKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return ks, err
		}
		ks[i] = k
	}
	return ks, nil
})

// render builds one POST body of the batch, as send does. coldToken drops the cached
// validation token first, so that this body signs a new one.
func (bb *bodyBench) render(tb testing.TB, rich, coldToken bool) []byte {
	rows, info := bb.rows, bb.basic
	if rich {
		rows, info = bb.richRows, bb.rich
	}
	if coldToken {
		clear(bb.p.tokens.m)
	}
	b := &bb.batchScratch
	b.rows = append(b.rows[:0], rows...)
	b.infos = b.infos[:0]
	for range rows {
		b.infos = append(b.infos, info)
	}
	body, bad := bb.p.body(b)
	if body == nil || len(bad) > 0 {
		tb.Fatalf("body(%d rows, rich %v) = %d bytes, %d rows not encryptable", len(rows), rich, len(body), len(bad))
	}
	return body
}

// TestBodyBenchFixture keeps the benchmarks honest: the rich body carries one
// encryptedContent per item that decrypts to the message with its dataSignature
// verified, and one validation token; the basic body carries neither.
func TestBodyBenchFixture(t *testing.T) {
	const size = 3
	bb := setupBodyBench(t, size)
	var basic, rich receiver.Collection
	if err := json.Unmarshal(bb.render(t, false, false), &basic); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(bb.render(t, true, true), &rich); err != nil {
		t.Fatal(err)
	}
	if len(basic.Value) != size || basic.ValidationTokens != nil || basic.Value[0].EncryptedContent != nil {
		t.Errorf("basic body: %d items, %d validation tokens, encryptedContent %v; want %d, none, none",
			len(basic.Value), len(basic.ValidationTokens), basic.Value[0].EncryptedContent, size)
	}
	if len(rich.Value) != size || len(rich.ValidationTokens) != 1 {
		t.Fatalf("rich body: %d items, %d validation tokens; want %d, 1", len(rich.Value), len(rich.ValidationTokens), size)
	}
	for i, n := range rich.Value {
		if n.EncryptedContent == nil {
			t.Fatalf("rich body value[%d] has no encryptedContent", i)
		}
		data, err := receiver.Decrypt(*n.EncryptedContent, bb.key)
		if err != nil || string(data) != string(benchMessage) {
			t.Errorf("Decrypt(value[%d]) = %.40q, %v; want the message", i, data, err)
		}
		if n.ResourceData == nil || n.ResourceData.ID != basic.Value[i].ResourceData.ID {
			t.Errorf("rich value[%d].resourceData = %+v, want the basic one's %+v", i, n.ResourceData, basic.Value[i].ResourceData)
		}
	}
}

// BenchmarkBody renders whole POST bodies of basic and rich chat message
// notifications; µs/notification is the figure to compare.
func BenchmarkBody(b *testing.B) {
	for _, size := range []int{1, 100} {
		for _, c := range []struct {
			name            string
			rich, coldToken bool
		}{
			{"basic", false, false},
			{"rich", true, false},
			{"rich-cold-token", true, true},
		} {
			b.Run(fmt.Sprintf("%s/batch=%d", c.name, size), func(b *testing.B) {
				bb := setupBodyBench(b, size)
				bb.render(b, c.rich, false) // warm the token cache and buffers
				b.ReportAllocs()
				for b.Loop() {
					bb.render(b, c.rich, c.coldToken)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*size), "µs/notification")
			})
		}
	}
}

// BenchmarkRichExtra reports the figure directly: rich minus basic, per
// notification, timed in the same loop so that both see the same machine load. The
// validation token is cached, as it is for almost every batch.
func BenchmarkRichExtra(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			bb := setupBodyBench(b, size)
			bb.render(b, true, false)
			var basic, rich time.Duration
			for b.Loop() {
				t0 := time.Now()
				bb.render(b, false, false)
				t1 := time.Now()
				bb.render(b, true, false)
				basic, rich = basic+t1.Sub(t0), rich+time.Since(t1)
			}
			n := float64(b.N * size)
			b.ReportMetric(float64(basic.Nanoseconds())/1e3/n, "basic-µs/notification")
			b.ReportMetric(float64(rich.Nanoseconds())/1e3/n, "rich-µs/notification")
			b.ReportMetric(float64((rich-basic).Nanoseconds())/1e3/n, "extra-µs/notification")
		})
	}
}
