package listen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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

// notification prints one block: when it arrived, what happened to what, through
// which subscription, and the resource itself when it came decrypted.
func (p *printer) notification(at time.Time, n receiver.Notification) {
	var b strings.Builder
	what := n.ChangeType
	if n.IsLifecycle() {
		what = "lifecycle " + n.LifecycleEvent
	}
	fmt.Fprintf(&b, "\n[%s] %s", at.UTC().Format(time.RFC3339), what)
	if n.Resource != "" {
		fmt.Fprintf(&b, " %s", n.Resource)
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
