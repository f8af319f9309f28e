package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/sortid"
	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/sqlite"
)

// BenchmarkChangeWrite measures the store's part of one message created through the
// API, as the single bench drives it: 32 concurrent writers, so that group commit
// batches them; each inserts the message, its change record with four topics and one
// queue row, under a context of its own that can be cancelled, as a request's. Sub-benchmarks leave out the later steps to show what each costs, and
// compare synchronous FULL (the default) with OFF (no flush). ns/op and cpu-ns/op are
// per change.
func BenchmarkChangeWrite(b *testing.B) {
	data := []byte(`{"subject":"bench","body":{"contentType":"text","content":"hello"},"bodyPreview":"hello","importance":"normal","isRead":true,"isDraft":true,` +
		`"toRecipients":[],"ccRecipients":[],"bccRecipients":[],"replyTo":[],"categories":[],"flag":{"flagStatus":"notFlagged"},"hasAttachments":false,` +
		`"conversationId":"AAQkAGvgvIRya-iwfASqMd614vvYBw8HHzfLq7rr3juoh2LV4","internetMessageId":"<-Wpj_EjE161LpcaKxq2tEG0U@contoso.onmicrosoft.com>",` +
		`"changeKey":"CQAAABYAAAAjvsKtoxsR-mY8q0p","inferenceClassification":"focused","parentFolderId":"AAMkAGjId4ofxXliaA6hJsa2E6tbFp6zOQxqhm"}`)
	payload := []byte(`"resourceData":{"@odata.type":"#Microsoft.Graph.Message","@odata.id":"Users/0b3c/Messages/AAMkAGI2THVSAAA=","@odata.etag":"W/\"CQAAABYAAAC\"","id":"AAMkAGI2THVSAAA="}`)
	for _, sync := range []string{"FULL", "OFF"} {
		for _, steps := range []int{1, 2, 3} {
			name := fmt.Sprintf("sync=%s/%s", sync, []string{"", "object", "object+change", "object+change+queue"}[steps])
			b.Run(name, func(b *testing.B) { benchChangeWrite(b, sync, steps, data, payload) })
		}
	}
}

func benchChangeWrite(b *testing.B, synchronous string, steps int, data, payload []byte) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Config{Dir: b.TempDir(), Synchronous: synchronous})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const writers = 32
	b.ResetTimer()
	cpu0, w0 := cpuTime(), writtenBytes()
	defer func() {
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(writtenBytes()-w0)/float64(b.N), "written-B/op")
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += writers {
				now := time.Now()
				id := sortid.Base64("AAMkAG", 32)
				// Each write runs under a context of its own that can be cancelled,
				// as an API request's does.
				ctx, cancel := context.WithCancel(ctx)
				err := s.Update(ctx, func(tx store.Tx) error {
					o := store.Object{Tenant: "t", Kind: "message", ID: id, Owner: "u1", Parent: "inbox", Sort: now.Format(time.RFC3339), Data: data, Created: now, Updated: now}
					if err := tx.InsertObject(ctx, &o); err != nil || steps < 2 {
						return err
					}
					c := store.Change{Tenant: "t", Kind: "message", ID: id, ChangeType: "created", After: data, Time: now,
						Topics: []string{"users/u1/messages", "users/u1/mailFolders/inbox/messages", "me/messages", "me/mailFolders/inbox/messages"}}
					if err := tx.AppendChange(ctx, &c); err != nil || steps < 3 {
						return err
					}
					return tx.Enqueue(ctx, []*store.Notification{{URL: "http://127.0.0.1:1/single", Tenant: "t", SubscriptionID: "sub",
						ResourceType: "message", Event: "created", Resource: "Users/u1/Messages/" + id, Payload: payload, Seq: c.Seq, Created: now}})
				})
				cancel()
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// writtenBytes is what the process has written to files so far (/proc/self/io's
// wchar): the database, its log and the checkpoints.
func writtenBytes() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
