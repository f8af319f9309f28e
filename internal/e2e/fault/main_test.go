package fault

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/store/pgtest"
)

var soakFlag = flag.Bool("soak", false, "run the fault soak (1,000 kills on SQLite, 50 on PostgreSQL) instead of the short loops; GRAPHHOOK_SOAK=1 does the same")

// binPath is the graphhook binary built once for the whole test run.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "graphhook-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "graphhook")
	if err := build(binPath); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return pgtest.Run(m) // stops the PostgreSQL server of the multi-node tests
}

// build compiles cmd/graphhook from the module root, which `go env GOMOD` names, so
// the test builds the same binary a user would wherever `go test` runs it from.
func build(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "build", "-o", out, "./cmd/graphhook")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build graphhook: %v\n%s", err, b)
	}
	return nil
}

// soak reports whether the long fault loops were asked for.
func soak() bool { return *soakFlag || os.Getenv("GRAPHHOOK_SOAK") == "1" }
