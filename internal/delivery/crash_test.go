package delivery_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/graphhook/graphhook/internal/graphclient"
	"github.com/graphhook/graphhook/internal/testserver"
	"github.com/graphhook/graphhook/internal/wait"
)

// TestCrashRecovery runs the real binary, streams changes through the Graph API,
// kills the process with SIGKILL in the middle of the stream, restarts it on the same
// data and checks that every change the API acknowledged was notified at least once.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "graphhook")
	build := exec.Command("go", "build", "-o", bin, "github.com/graphhook/graphhook/cmd/graphhook")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()

	var mu sync.Mutex
	seen := map[string]int{}
	hook := newReceiver(t)
	hook.setAnswer(func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) })
	collect := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		for k := range seen {
			delete(seen, k)
		}
		for _, it := range hook.items(t) {
			if rd, ok := it["resourceData"].(map[string]any); ok {
				seen[rd["id"].(string)]++
			}
		}
		return seen
	}

	srv := startBinary(t, bin, data)
	token := appToken(t, srv.url)
	body := map[string]any{"changeType": "created", "notificationUrl": hook.URL, "resource": "/users/" + testserver.Adele + "/messages",
		"expirationDateTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	if status, out := call(t, "POST", srv.url+"/v1.0/subscriptions", token, body); status != http.StatusCreated {
		t.Fatalf("POST subscriptions = %d %s", status, out)
	}

	// Stream changes from several clients; kill the server while they run.
	var acked []string
	var ackMu sync.Mutex
	ackedMore := wait.NewSignal()
	stream := func(base string, n int, stop <-chan struct{}) {
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < n; i++ {
					select {
					case <-stop:
						return
					default:
					}
					status, out := callQuiet("POST", base+"/v1.0/users/"+testserver.Adele+"/messages", token, map[string]any{"subject": fmt.Sprint("m", i)})
					if status != http.StatusCreated {
						continue // the server died under this request: not acknowledged
					}
					var m map[string]any
					json.Unmarshal(out, &m)
					ackMu.Lock()
					acked = append(acked, m["id"].(string))
					ackMu.Unlock()
					ackedMore.Fire()
				}
			}()
		}
		wg.Wait()
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { stream(srv.url, 1000, stop); close(done) }()
	// Kill after 150 acknowledged changes, or after 20 s whatever the count (the
	// check below then says the test lacked changes before the kill).
	wait.On(ackedMore, 20*time.Second, func() bool {
		ackMu.Lock()
		defer ackMu.Unlock()
		return len(acked) >= 150
	})
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.cmd.Wait()
	close(stop)
	<-done
	killedAt := len(acked)

	srv = startBinary(t, bin, data)
	token = appToken(t, srv.url)
	stream(srv.url, 25, make(chan struct{}))

	var missing []string
	allNotified := func() bool {
		got := collect()
		missing = missing[:0]
		for _, id := range acked {
			if got[id] == 0 {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0
	}
	if !wait.On(hook.signal, 30*time.Second, allNotified) {
		t.Fatalf("%d of %d acknowledged changes never notified (e.g. %s)", len(missing), len(acked), missing[0])
	}
	t.Logf("%d changes acknowledged (%d before the kill), all notified; %d POSTs", len(acked), killedAt, hook.postCount())
	if killedAt == 0 || len(acked) <= killedAt {
		t.Errorf("acknowledged %d before the kill and %d in all; the test needs changes on both sides", killedAt, len(acked))
	}
}

type binary struct {
	cmd *exec.Cmd
	url string
}

func startBinary(t *testing.T, bin, data string) *binary {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--https-addr", "127.0.0.1:0", "--data", data, "--log-level", "error")
	cmd.Env = append(os.Environ(), "GRAPHHOOK_ADMIN_KEY=crash-test")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the server's first line: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	u := strings.TrimSpace(strings.TrimPrefix(line, "graphhook listening on "))
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("first line = %q, want the listening URL", line)
	}
	return &binary{cmd: cmd, url: u}
}

func appToken(t *testing.T, base string) string {
	t.Helper()
	tok, err := graphclient.FetchToken(context.Background(), nil, graphclient.TokenEndpoint(base, testserver.Tenant),
		graphclient.ClientCredentials(testserver.AppID, testserver.AppSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func call(t *testing.T, method, u, token string, body any) (int, []byte) {
	t.Helper()
	status, out := callQuiet(method, u, token, body)
	if status == 0 {
		t.Fatalf("%s %s failed: %s", method, u, out)
	}
	return status, out
}

func callQuiet(method, u, token string, body any) (int, []byte) {
	data, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, u, strings.NewReader(string(data)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
