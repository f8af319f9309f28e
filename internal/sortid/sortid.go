// Package sortid makes object ids that sort in creation order. The embedded store
// keys objects by id in B-trees (the table and its owner, parent and alt indexes);
// a random id puts each new object on a leaf page of its own, so a commit of a
// batch of writes rewrites one page per object per B-tree. An id that starts with
// its creation time lands at the right edge of each, where a batch's objects share
// pages. The ids keep the alphabets of the random ids they replace, so they look
// the same to a client; the rest of each id stays random.
package sortid

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// The alphabets of URL-safe base64 and of standard base32, each in ASCII order, so
// that encoded bytes compare as the bytes do.
var (
	base64Sorted = base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").WithPadding(base64.NoPadding)
	base32Sorted = base32.NewEncoding("234567ABCDEFGHIJKLMNOPQRSTUVWXYZ").WithPadding(base32.NoPadding)
)

// timeBytes is the length of the creation time at the start of an id's bytes.
const timeBytes = 8

// bytesAt returns n bytes (n > timeBytes): t in nanoseconds, big-endian, then
// random bytes.
func bytesAt(t time.Time, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint64(b, uint64(t.UnixNano()))
	rand.Read(b[timeBytes:])
	return b
}

// Base64 returns prefix and n bytes (more than 8) in URL-safe base64's characters
// without padding: the id of an Exchange-style item.
func Base64(prefix string, n int) string {
	return prefix + base64Sorted.EncodeToString(bytesAt(time.Now(), n))
}

// Base32 returns prefix and n bytes (more than 8) in standard base32's characters
// without padding: the id of a OneDrive-style item.
func Base32(prefix string, n int) string {
	return prefix + base32Sorted.EncodeToString(bytesAt(time.Now(), n))
}
