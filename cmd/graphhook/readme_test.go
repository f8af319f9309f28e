package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/app"
	"github.com/graphhook/graphhook/internal/wait"
)

// readme returns the project's README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the README's text from the heading that starts with heading to the
// next heading of the same or a higher level (lines in code blocks are not headings).
func section(t *testing.T, md, heading string) string {
	t.Helper()
	level := strings.Index(heading, " ")
	var out []string
	in, fenced := false, false
	for l := range strings.Lines(md) {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(l, "#") {
			hashes := len(l) - len(strings.TrimLeft(l, "#"))
			if in && hashes <= level {
				break
			}
			if strings.HasPrefix(l, heading) {
				in = true
			}
		}
		if in {
			out = append(out, l)
		}
	}
	if !in {
		t.Fatalf("README has no heading %q", heading)
	}
	return strings.Join(out, "")
}

// shellBlocks returns the ```sh blocks of md.
func shellBlocks(md string) []string {
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(md, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestReadmeFlags: every graphhook command line in the README's shell examples names
// an existing command and only flags it has, and every flag of the serve table is a
// flag of serve.
func TestReadmeFlags(t *testing.T) {
	t.Parallel()
	md := readme(t)
	n := 0
	for _, b := range shellBlocks(md) {
		for _, cmdLine := range strings.Split(strings.ReplaceAll(b, "\\\n", " "), "\n") {
			if strings.HasPrefix(strings.TrimSpace(cmdLine), "#") {
				continue
			}
			if regexp.MustCompile(`(^|\s|/)graphhook\s+[a-z]`).MatchString(cmdLine) && !strings.Contains(cmdLine, "examples/receiver") {
				// `go run ./cmd/graphhook serve` runs the same command as `graphhook serve`.
				checkCommandLine(t, "README", strings.ReplaceAll(cmdLine, "./cmd/graphhook", "graphhook"))
				n++
			}
		}
	}
	if n < 3 {
		t.Errorf("found %d graphhook command lines in the README's examples, want at least 3 (serve, listen…)", n)
	}
	serve := flagsOf(t, "serve")
	table := section(t, md, "## `graphhook serve` flags")
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)`(?:, `--([a-z-]+)`)?").FindAllStringSubmatch(table, -1) {
		for _, f := range m[1:] {
			if f != "" && !slices.Contains(serve, f) {
				t.Errorf("README's serve table names --%s, which serve does not have", f)
			}
		}
	}
	// And the other way round: the table lists every serve flag.
	for _, f := range serve {
		if !strings.Contains(table, "`--"+f+"`") {
			t.Errorf("README's serve table lacks --%s", f)
		}
	}
}

// TestReadmeSubscriptionExample runs the README's subscription example as written,
// with bash, curl, jq and date, against a real server and the real examples/receiver:
// the application token of First calls, the subscription (its computed expiry
// accepted), the message, and the notification the receiver prints. Only the two
// base URLs are changed, to the free ports the test took.
func TestReadmeSubscriptionExample(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README's examples need %s: %v", tool, err)
		}
	}
	md := readme(t)
	first := shellBlocks(section(t, md, "## First calls"))
	subs := shellBlocks(section(t, md, "## Subscriptions and change notifications"))
	if len(first) < 1 || len(subs) < 3 {
		t.Fatalf("README: %d blocks in First calls, %d in Subscriptions; want the token block, the receiver, the subscription and the message", len(first), len(subs))
	}
	// The application token: the lines of First calls up to the first token.
	tokenLines := first[0][:strings.Index(first[0], "jq -r .access_token)")+len("jq -r .access_token)")]

	m := app.New(app.Config{Addr: "127.0.0.1:0", Data: t.TempDir(), HTTPSAddr: "off", LogLevel: "error"}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	// The receiver, started as the README says, on a free port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	recvAddr := l.Addr().String()
	l.Close()
	receiverCmd := strings.TrimSpace(subs[0])
	if !strings.HasPrefix(receiverCmd, "go run ./examples/receiver ") {
		t.Fatalf("README's receiver line = %q, want go run ./examples/receiver …", receiverCmd)
	}
	bin := filepath.Join(t.TempDir(), "receiver")
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/receiver").CombinedOutput(); err != nil {
		t.Fatalf("build examples/receiver: %v\n%s", err, out)
	}
	recv := exec.Command(bin, append(strings.Fields(strings.TrimPrefix(receiverCmd, "go run ./examples/receiver ")), "-addr", recvAddr)...)
	stdout, _ := recv.StdoutPipe()
	var recvErr strings.Builder
	recv.Stderr = &lockedWriter{w: &recvErr}
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { recv.Process.Kill(); recv.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The subscription's handshake needs the receiver accepting connections.
	if !wait.Poll(30*time.Second, func() bool {
		c, err := net.Dial("tcp", recvAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("examples/receiver not listening on %s within 30s: %s", recvAddr, recvErr.String())
	}

	script := "set -euo pipefail\n" + tokenLines + "\n" + subs[1] + "\necho\n" + subs[2]
	script = strings.ReplaceAll(script, "http://127.0.0.1:8787", m.URL)
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", "http://"+recvAddr)
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the README's example failed: %v\n%s\nscript:\n%s", err, out, script)
	}
	if !strings.Contains(string(out), `"expirationDateTime"`) || strings.Contains(string(out), `"error"`) {
		t.Fatalf("the README's example answered:\n%s", out)
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("examples/receiver exited: %s", recvErr.String())
			}
			if strings.Contains(l, `"changeType":"created"`) && strings.Contains(l, `"clientState":"secretClientValue"`) {
				return
			}
		case <-timeout:
			t.Fatalf("examples/receiver printed no created notification within 30s; curl said:\n%s\nreceiver stderr: %s", out, recvErr.String())
		}
	}
}
