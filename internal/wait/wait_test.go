package wait_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/wait"
)

func TestOnRechecksAfterEachSignal(t *testing.T) {
	sig := wait.NewSignal()
	var v atomic.Int64
	go func() {
		for range 3 {
			v.Add(1)
			sig.Fire()
		}
	}()
	if !wait.On(sig, 10*time.Second, func() bool { return v.Load() == 3 }) {
		t.Fatalf("On(v == 3) = false with v = %d, want true", v.Load())
	}
}

func TestOnAndPollGiveUpAtTheDeadline(t *testing.T) {
	start := time.Now()
	if wait.On(wait.NewSignal(), 20*time.Millisecond, func() bool { return false }) {
		t.Error("On(never) = true, want false")
	}
	if wait.Poll(20*time.Millisecond, func() bool { return false }) {
		t.Error("Poll(never) = true, want false")
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("On and Poll gave up after %v in all, want at least 40ms", d)
	}
}

func TestPollSeesAChangeNothingSignals(t *testing.T) {
	var v atomic.Bool
	go v.Store(true)
	if !wait.Poll(10*time.Second, v.Load) {
		t.Fatal("Poll(v) = false, want true")
	}
}
