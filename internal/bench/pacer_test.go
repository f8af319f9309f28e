package bench

import (
	"context"
	"testing"
)

func TestPacerTurns(t *testing.T) {
	p := newPacer(1) // one turn a second
	if n, ok := p.wait(context.Background()); n != 0 || !ok {
		t.Fatalf("first turn = %d, %v; want 0 at once", n, ok)
	}
	// The second turn is a second away; a client whose run ends meanwhile stops.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, ok := p.wait(ctx); n != 1 || ok {
		t.Fatalf("second turn with the run over = %d, %v; want 1, false", n, ok)
	}
	// Turns are handed out in order however many clients ask.
	if n, _ := p.wait(ctx); n != 2 {
		t.Fatalf("third turn = %d, want 2", n)
	}
}
