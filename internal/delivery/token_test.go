package delivery

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/graphhook/graphhook/internal/clock"
)

// countingSigner "signs" by numbering tokens and remembers each one's claims.
type countingSigner struct {
	mu     sync.Mutex
	claims map[string]jwt.MapClaims
}

func (s *countingSigner) Sign(c jwt.MapClaims) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claims == nil {
		s.claims = map[string]jwt.MapClaims{}
	}
	tok := fmt.Sprintf("token-%d", len(s.claims)+1)
	s.claims[tok] = c
	return tok, nil
}

func (s *countingSigner) minted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.claims)
}

func (s *countingSigner) window(tok string) (nbf, exp time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.claims[tok]
	return time.Unix(c["nbf"].(int64), 0), time.Unix(c["exp"].(int64), 0)
}

func TestTokenCacheReuse(t *testing.T) {
	start := t0.Add(400 * time.Millisecond) // not on a whole second, as tokens are
	cases := []struct {
		name   string
		at     time.Duration // clock offset from start
		tenant string
		want   string // token expected
	}{
		{"first mint", 0, "t1", "token-1"},
		{"same pair, later", time.Hour, "t1", "token-1"},
		{"other tenant", time.Hour, "t2", "token-2"},
		{"just before renewal", 23*time.Hour - time.Second, "t1", "token-1"},
		{"renewal point (1 h left)", 23 * time.Hour, "t1", "token-3"},
		{"new token reused", 30 * time.Hour, "t1", "token-3"},
		{"other tenant's token past renewal", 24 * time.Hour, "t2", "token-4"},
		{"clock set back before nbf", 22 * time.Hour, "t1", "token-5"},
	}
	fc := clock.NewFixed(start)
	s := &countingSigner{}
	p := &Pipeline{clock: fc, signer: s}
	for _, c := range cases {
		fc.Set(start.Add(c.at))
		got, err := p.tokens.get(p, "app", c.tenant)
		if err != nil || got != c.want {
			t.Errorf("%s: get(app, %s) at start+%v = %q, %v; want %q", c.name, c.tenant, c.at, got, err, c.want)
		}
	}
	if n := s.minted(); n != 5 {
		t.Errorf("minted %d tokens, want 5", n)
	}
}

// TestTokenCacheNeverExpired walks the clock over three days in steps that do not
// divide a day, and checks that every token handed out is valid now and for at
// least tokenRenewBefore more, and that tokens are mostly reused.
func TestTokenCacheNeverExpired(t *testing.T) {
	start := t0.Add(999 * time.Millisecond)
	fc := clock.NewFixed(start)
	s := &countingSigner{}
	p := &Pipeline{clock: fc, signer: s}
	steps := 0
	for d := time.Duration(0); d < 72*time.Hour; d += 7*time.Minute + 13*time.Second {
		now := start.Add(d)
		fc.Set(now)
		tok, err := p.tokens.get(p, "app", "tenant")
		if err != nil {
			t.Fatalf("get at start+%v = %v", d, err)
		}
		nbf, exp := s.window(tok)
		if now.Before(nbf) || exp.Sub(now) < tokenRenewBefore {
			t.Fatalf("get at %v = token valid %v … %v, want valid now and for %v more", now, nbf, exp, tokenRenewBefore)
		}
		steps++
	}
	// One token per 23 hours: 72 h need 4.
	if n := s.minted(); n != 4 {
		t.Errorf("minted %d tokens in %d sends over 72 h, want 4", n, steps)
	}
}
