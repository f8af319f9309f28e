package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/graphhook/graphhook/internal/store"
	"github.com/graphhook/graphhook/internal/store/pgtest"
	"github.com/graphhook/graphhook/internal/store/postgres"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(t)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBadURL(t *testing.T) {
	if _, err := postgres.Open(context.Background(), postgres.Config{URL: "postgres://%zz"}); err == nil {
		t.Fatal("Open with a malformed URL succeeded")
	}
}
