//go:build !linux

package sqlite

import "os"

// flushFile makes f's contents durable.
func flushFile(f *os.File) error { return f.Sync() }
