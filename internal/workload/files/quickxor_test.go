package files

import (
	"encoding/base64"
	"testing"
)

func TestQuickXor(t *testing.T) {
	t.Parallel()
	// Published vectors (input and digest in base64), as OneDrive computes them.
	tests := []struct{ in, want string }{
		{"", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{"Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="},
		{"tbQ=", "taAFAAAAAAAAAAAAAgAAAAAAAAA="},
		{"0pZP", "0rDEEwAAAAAAAAAAAwAAAAAAAAA="},
		{"jRRDVA==", "jaDAEKgAAAAAAAAABAAAAAAAAAA="},
		{"eAV52qE=", "eChAHrQRCgAAAAAABQAAAAAAAAA="},
		{"luBZlaT6", "lgBHFipBCn0AAAAABgAAAAAAAAA="},
		{"qaApEj66lw==", "qQBFCiTgA11cAgAABwAAAAAAAAA="},
		{"/aNzzCFPS/A=", "/RjFHJgRgicsAR4ACAAAAAAAAAA="},
	}
	for _, tt := range tests {
		in, err := base64.StdEncoding.DecodeString(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		var q quickXor
		q.Write(in)
		if got := base64.StdEncoding.EncodeToString(q.Sum()); got != tt.want {
			t.Errorf("quickXor(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestQuickXorChunked checks that the state carries over between writes of any size,
// against a bit-by-bit reading of the definition.
func TestQuickXorChunked(t *testing.T) {
	t.Parallel()
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i*7 + i/3)
	}
	var ref [quickXorSize]byte
	for k, b := range data {
		for bit := 0; bit < 8; bit++ {
			if b&(1<<bit) != 0 {
				pos := (k*quickXorShift + bit) % quickXorWidth
				ref[pos/8] ^= 1 << (pos % 8)
			}
		}
	}
	ref[quickXorSize-8] ^= byte(len(data))
	ref[quickXorSize-7] ^= byte(len(data) >> 8)
	for _, chunk := range []int{1, 3, 20, 159, 160, 161, 1000} {
		var q quickXor
		for i := 0; i < len(data); i += chunk {
			q.Write(data[i:min(i+chunk, len(data))])
		}
		if got := q.Sum(); string(got) != string(ref[:]) {
			t.Errorf("quickXor in chunks of %d = %x, want %x", chunk, got, ref)
		}
	}
}

// TestQuickXorResume hashes in fragments with the state saved and restored between
// them, as an upload session does, and gets the one-pass digest.
func TestQuickXorResume(t *testing.T) {
	t.Parallel()
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i*31 + i>>3)
	}
	var whole quickXor
	whole.Write(data)
	want := base64.StdEncoding.EncodeToString(whole.Sum())
	for _, cut := range []int{0, 1, 7, 20, 333, 999, 1000} {
		var first, second quickXor
		first.Write(data[:cut])
		saved, err := first.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := second.UnmarshalBinary(saved); err != nil {
			t.Fatal(err)
		}
		second.Write(data[cut:])
		if got := base64.StdEncoding.EncodeToString(second.Sum()); got != want {
			t.Errorf("quickXor resumed at %d = %s, want %s", cut, got, want)
		}
	}
	var q quickXor
	if err := q.UnmarshalBinary([]byte("short")); err == nil {
		t.Error("UnmarshalBinary(short) = nil, want an error")
	}
}
