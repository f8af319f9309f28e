package files

import (
	"encoding/binary"
	"errors"
)

// quickXor is OneDrive's QuickXorHash: a 160-bit state into which every input byte is
// XORed at bit offset (11 × its position) mod 160, wrapping around the state; the
// input length, as a little-endian 64-bit integer, is XORed into the last 8 bytes at
// the end. Because 160 is a multiple of 8, a byte placed at a bit offset touches at
// most two adjacent state bytes (the second one wrapping to the start), which is what
// write does. It implements hash.Hash's Write/Sum contract for one pass.
type quickXor struct {
	state  [quickXorSize]byte
	length uint64
}

const (
	quickXorSize  = 20 // bytes of output
	quickXorWidth = quickXorSize * 8
	quickXorShift = 11
)

func (q *quickXor) Write(p []byte) (int, error) {
	// The bit offset of byte k is (k*11) mod 160; track it incrementally.
	off := int((q.length * quickXorShift) % quickXorWidth)
	for _, b := range p {
		i, sh := off/8, uint(off%8)
		q.state[i] ^= b << sh
		if sh != 0 {
			q.state[(i+1)%quickXorSize] ^= b >> (8 - sh)
		}
		off += quickXorShift
		if off >= quickXorWidth {
			off -= quickXorWidth
		}
	}
	q.length += uint64(len(p))
	return len(p), nil
}

// Sum returns the 20-byte digest (the state with the length folded in).
func (q *quickXor) Sum() []byte {
	out := q.state
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], q.length)
	for i, b := range n {
		out[quickXorSize-8+i] ^= b
	}
	return out[:]
}

// MarshalBinary saves the state between an upload session's fragments, which arrive
// in separate requests (possibly to different nodes).
func (q *quickXor) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, quickXorSize+8)
	out = append(out, q.state[:]...)
	return binary.LittleEndian.AppendUint64(out, q.length), nil
}

// UnmarshalBinary restores a state saved by MarshalBinary.
func (q *quickXor) UnmarshalBinary(b []byte) error {
	if len(b) != quickXorSize+8 {
		return errors.New("quickxor: bad saved state")
	}
	copy(q.state[:], b)
	q.length = binary.LittleEndian.Uint64(b[quickXorSize:])
	return nil
}
