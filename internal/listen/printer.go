package listen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graphhook/graphhook/receiver"
)

// printer writes whole lines and blocks, so that concurrent batches do not interleave.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) linef(format string, args ...any) {
	p.write(fmt.Sprintf(format+"\n", args...))
}

func (p *printer) write(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	io.WriteString(p.w, s)
}

// attemptHeader is the request header in which graphhook numbers each item's
// delivery attempt, in item order ("1,3"); it is delivery.AttemptHeader, named
// here again because listen stands apart from the server's packages. Graph sends
// no such header: its notifications are never marked.
const attemptHeader = "X-Graphhook-Attempt"

// attemptNumbers reads attemptHeader: the attempt of each item, 0 where the value
// is absent or unreadable.
func attemptNumbers(h string, items int) []int {
	out := make([]int, items)
	if h == "" {
		return out
	}
	for i, f := range strings.Split(h, ",") {
		if i >= items {
			break
		}
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out[i] = n
		}
	}
	return out
}

// notification prints one block: when it arrived, what happened to what (marked
// with its attempt number when it is a retry), through which subscription, and the
// resource itself when it came decrypted.
func (p *printer) notification(at time.Time, n receiver.Notification, attempt int) {
	var b strings.Builder
	what := n.ChangeType
	if n.IsLifecycle() {
		what = "lifecycle " + n.LifecycleEvent
	}
	fmt.Fprintf(&b, "\n[%s] %s", at.UTC().Format(time.RFC3339), what)
	if n.Resource != "" {
		fmt.Fprintf(&b, " %s", n.Resource)
	}
	if attempt > 1 {
		fmt.Fprintf(&b, " (attempt %d)", attempt)
	}
	fmt.Fprintf(&b, "\n  subscriptionId: %s\n", n.SubscriptionID)
	if !n.SubscriptionExpirationDateTime.IsZero() {
		fmt.Fprintf(&b, "  subscriptionExpirationDateTime: %s\n", n.SubscriptionExpirationDateTime.UTC().Format(time.RFC3339))
	}
	if n.TenantID != "" {
		fmt.Fprintf(&b, "  tenantId: %s\n", n.TenantID)
	}
	if n.ResourceData != nil {
		raw, _ := json.Marshal(n.ResourceData)
		fmt.Fprintf(&b, "  resourceData: %s\n", raw)
	}
	if n.Data != nil {
		var indented bytes.Buffer
		if err := json.Indent(&indented, n.Data, "    ", "  "); err != nil {
			indented.Reset()
			indented.Write(n.Data)
		}
		fmt.Fprintf(&b, "  data (decrypted):\n    %s\n", indented.Bytes())
	}
	switch n.LifecycleEvent {
	case receiver.LifecycleReauthorizationRequired:
		b.WriteString("  (renewing the subscription, which reauthorizes it)\n")
	case receiver.LifecycleSubscriptionRemoved:
		b.WriteString("  (creating a new subscription)\n")
	case receiver.LifecycleMissed:
		b.WriteString("  (some notifications were not delivered: resynchronise with a delta query)\n")
	}
	p.write(b.String())
}
