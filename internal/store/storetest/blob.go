package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
)

// errRollback makes an Update undo its work.
var errRollback = errors.New("storetest: roll back")

// testBlobAppend builds a blob from pieces, each in its own transaction, as an upload
// does; a rolled-back piece leaves no trace, and PutBlob replaces all pieces.
func testBlobAppend(t *testing.T, s store.Store) {
	ctx := context.Background()
	var want []byte
	for i, piece := range [][]byte{[]byte("alpha-"), nil, bytes.Repeat([]byte{7}, 300<<10), []byte("-omega")} {
		update(t, s, func(tx store.Tx) error { return tx.AppendBlob(ctx, "grow", piece) })
		want = append(want, piece...)
		if i == 1 {
			err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.AppendBlob(ctx, "grow", []byte("undone")); err != nil {
					return err
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatalf("Update = %v, want errRollback", err)
			}
		}
	}
	update(t, s, func(tx store.Tx) error { return tx.AppendBlob(ctx, "empty", nil) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.GetBlob(ctx, "grow")
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("GetBlob(grow) = %d bytes, %v; want the %d bytes appended", len(got), err, len(want))
		}
		if got, err := tx.GetBlob(ctx, "empty"); err != nil || len(got) != 0 {
			t.Errorf("GetBlob(empty) = %q, %v; want an empty blob", got, err)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.PutBlob(ctx, "grow", []byte("short")) })
	update(t, s, func(tx store.Tx) error { return tx.AppendBlob(ctx, "grow", []byte("er")) })
	view(t, s, func(tx store.Tx) error {
		if got, err := tx.GetBlob(ctx, "grow"); err != nil || string(got) != "shorter" {
			t.Errorf("GetBlob(grow) after PutBlob and AppendBlob = %q, %v; want %q", got, err, "shorter")
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteBlob(ctx, "grow") })
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.GetBlob(ctx, "grow"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetBlob(deleted) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

// testBlobConcat moves appended content between keys, as an upload session does
// with its staged chunks and the file it commits.
func testBlobConcat(t *testing.T, s store.Store) {
	ctx := context.Background()
	update(t, s, func(tx store.Tx) error {
		for _, p := range []string{"a1", "a2"} {
			if err := tx.AppendBlob(ctx, "staged-a", []byte(p)); err != nil {
				return err
			}
		}
		if err := tx.AppendBlob(ctx, "staged-b", []byte("b1")); err != nil {
			return err
		}
		return tx.PutBlob(ctx, "staged-empty", nil)
	})
	update(t, s, func(tx store.Tx) error {
		// dst absent: it is created with src's content.
		if err := tx.ConcatBlob(ctx, "file", "staged-a"); err != nil {
			return err
		}
		if err := tx.ConcatBlob(ctx, "file", "staged-empty"); err != nil {
			return err
		}
		return tx.ConcatBlob(ctx, "file", "staged-b")
	})
	update(t, s, func(tx store.Tx) error { return tx.AppendBlob(ctx, "file", []byte("z")) })
	view(t, s, func(tx store.Tx) error {
		if got, err := tx.GetBlob(ctx, "file"); err != nil || string(got) != "a1a2b1z" {
			t.Errorf("GetBlob(file) = %q, %v; want %q", got, err, "a1a2b1z")
		}
		for _, k := range []string{"staged-a", "staged-b", "staged-empty"} {
			if _, err := tx.GetBlob(ctx, k); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetBlob(%s) after ConcatBlob = %v, want ErrNotFound", k, err)
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.ConcatBlob(ctx, "file", "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ConcatBlob(file, missing) = %v, want ErrNotFound", err)
		}
		if err := tx.ConcatBlob(ctx, "file", "file"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("ConcatBlob(file, file) = %v, want ErrConflict", err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		if got, err := tx.GetBlob(ctx, "file"); err != nil || string(got) != "a1a2b1z" {
			t.Errorf("GetBlob(file) after refused ConcatBlobs = %q, %v; want %q", got, err, "a1a2b1z")
		}
		return nil
	})
}
