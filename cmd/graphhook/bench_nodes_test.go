package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
	"testing"

	"github.com/graphhook/graphhook/internal/app"
)

// TestBenchConcurrentTargets runs two benches against one server at once, as two
// runs against two nodes of one database would: each makes its own subscriptions
// (no 409 for the second) and counts exactly its own changes' notifications. The
// second names the server twice, as a list of nodes, and spreads its changes over
// the list.
func TestBenchConcurrentTargets(t *testing.T) {
	m := app.New(app.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), LogLevel: "error"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	runs := [][]string{
		{"bench", "--target", m.URL, "--scenario", "single", "--duration", "1s", "--clients", "2", "--json"},
		{"bench", "--target", m.URL + "," + m.URL, "--scenario", "batched", "--subs", "2", "--duration", "1s", "--clients", "2", "--json"},
	}
	subs := []float64{1, 2}
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, len(runs))
	errOuts := make([]bytes.Buffer, len(runs))
	codes := make([]int, len(runs))
	for i, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = run(context.Background(), args, &outs[i], &errOuts[i])
		}()
	}
	wg.Wait()
	for i := range runs {
		if codes[i] != 0 {
			t.Fatalf("run %d exited %d: %s", i, codes[i], errOuts[i].String())
		}
		var res map[string]any
		if err := json.Unmarshal(outs[i].Bytes(), &res); err != nil {
			t.Fatalf("run %d printed %q: %v", i, outs[i].String(), err)
		}
		changes, _ := res["changes"].(float64)
		notes, _ := res["notifications"].(float64)
		if changes < 1 || notes != subs[i]*changes {
			t.Errorf("run %d: %v changes, %v notifications, want %v per change (its own only)", i, changes, notes, subs[i])
		}
		if nodes, _ := res["nodes"].(float64); nodes != float64(i+1) {
			t.Errorf("run %d: nodes = %v, want %d", i, res["nodes"], i+1)
		}
	}
}
