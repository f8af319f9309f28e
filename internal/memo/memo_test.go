package memo

import (
	"errors"
	"fmt"
	"testing"
)

func TestDecodedReusesOnlyIdenticalBytes(t *testing.T) {
	var d Decoded[string]
	calls := 0
	decode := func(b []byte) (string, error) {
		calls++
		if len(b) == 0 {
			return "", errors.New("empty")
		}
		return string(b) + "!", nil
	}
	buf := []byte("v1")
	for range 3 {
		if v, err := d.Get("k", buf, decode); err != nil || v != "v1!" {
			t.Fatalf("Get = %q, %v; want v1!", v, err)
		}
	}
	if calls != 1 {
		t.Errorf("decoded %d times for the same bytes; want once", calls)
	}
	// The memo keeps its own copy: bytes changed in place are new bytes.
	buf[1] = '2'
	if v, _ := d.Get("k", buf, decode); v != "v2!" || calls != 2 {
		t.Errorf("after the bytes changed: Get = %q after %d decodes; want v2! after 2", v, calls)
	}
	if v, _ := d.Get("other", buf, decode); v != "v2!" || calls != 3 {
		t.Errorf("another key: Get = %q after %d decodes; want v2! after 3", v, calls)
	}
	// A failed decode is returned and not remembered: the same bytes are decoded
	// (and fail) again, and the last good entry stays.
	for range 2 {
		if _, err := d.Get("k", nil, decode); err == nil {
			t.Error("Get of bytes that fail to decode returned no error")
		}
	}
	if v, _ := d.Get("k", buf, decode); v != "v2!" || calls != 5 {
		t.Errorf("after failed decodes: Get = %q after %d decodes; want v2! after 5", v, calls)
	}
}

func TestDecodedStaysBounded(t *testing.T) {
	var d Decoded[int]
	for i := range maxEntries + 10 {
		if _, err := d.Get(fmt.Sprint(i), []byte{1}, func([]byte) (int, error) { return i, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(d.m); n > maxEntries {
		t.Errorf("memo holds %d entries; want at most %d", n, maxEntries)
	}
}

func TestNilDecodedDecodesEachTime(t *testing.T) {
	var d *Decoded[int]
	calls := 0
	for range 2 {
		if v, err := d.Get("k", []byte{1}, func([]byte) (int, error) { calls++; return 7, nil }); err != nil || v != 7 {
			t.Fatalf("Get = %d, %v; want 7", v, err)
		}
	}
	if calls != 2 {
		t.Errorf("nil memo decoded %d times; want 2", calls)
	}
}
