package sqlite

import (
	"os"
	"syscall"
)

// flushFile makes f's contents durable with fdatasync: the log's own size and data
// are what a later read needs, and the write-ahead log is mostly rewritten in
// place, so the inode's times, which fsync would also journal, need no flush (SQLite
// flushes its files the same way on Linux).
func flushFile(f *os.File) error {
	return syscall.Fdatasync(int(f.Fd()))
}
