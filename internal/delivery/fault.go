package delivery

import (
	"context"
	"errors"
	"sync"

	"github.com/graphhook/graphhook/internal/store"
)

// Faults injected through the admin API live in the store, so that every node
// sharing a database applies them. The dispatcher keeps a copy, refreshed at each
// of its passes in the transaction that lists the due URLs, so a POST to a URL
// without a fault costs one map lookup. A fault bounded by a count is charged in
// the store (UseFault) before each POST it shapes, so nodes share the count.

// faultCache is the dispatcher's copy of the stored faults, by URL.
type faultCache struct {
	mu    sync.Mutex
	byURL map[string][]store.Fault
}

func (c *faultCache) set(fs []store.Fault) {
	m := make(map[string][]store.Fault, len(fs))
	for _, f := range fs {
		m[f.URL] = append(m[f.URL], f)
	}
	c.mu.Lock()
	c.byURL = m
	c.mu.Unlock()
}

// candidates returns the faults of url, oldest first.
func (c *faultCache) candidates(url string) []store.Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byURL) == 0 {
		return nil
	}
	return append([]store.Fault(nil), c.byURL[url]...)
}

// spent marks a fault used up in the copy until the next refresh.
func (c *faultCache) spent(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for url, fs := range c.byURL {
		for i := range fs {
			if fs[i].ID == id {
				c.byURL[url][i].Remaining = 0
			}
		}
	}
}

// takeFault returns the fault that shapes the next POST to url, charging it when it
// is bounded by a count; nil when none applies.
func (p *Pipeline) takeFault(ctx context.Context, url string) *store.Fault {
	for _, f := range p.faults.candidates(url) {
		if !f.Active(p.clock.Now()) {
			continue
		}
		used := true
		if f.Remaining > 0 {
			// Charged even while the dispatcher stops: the POST it shapes goes ahead.
			ctx := context.WithoutCancel(ctx)
			err := p.st.Update(ctx, func(tx store.Tx) error {
				var err error
				used, err = tx.UseFault(ctx, f.ID)
				return err
			})
			if errors.Is(err, store.ErrNotFound) {
				used = false
			} else if err != nil {
				p.log.Error("delivery: charging an injected fault", "fault", f.ID, "err", err)
				continue
			}
		}
		if !used {
			p.faults.spent(f.ID)
			continue
		}
		return &f
	}
	return nil
}

// refreshFaults reloads the dispatcher's copy of the faults.
func (p *Pipeline) refreshFaults(ctx context.Context, tx store.Tx) error {
	fs, err := tx.Faults(ctx)
	if err != nil {
		return err
	}
	p.faults.set(fs)
	return nil
}
