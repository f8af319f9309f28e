package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// quickStart returns the commands of the README's quick start: the lines starting
// with "graphhook " in the section's code blocks.
func quickStart(t *testing.T) [][]string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "\n## Quick start\n")
	if start < 0 {
		t.Fatal("README.md has no ## Quick start section")
	}
	section := text[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var cmds [][]string
	inBlock := false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock = !inBlock
		case inBlock && strings.HasPrefix(line, "graphhook "):
			cmds = append(cmds, strings.Fields(line))
		}
	}
	if len(cmds) != 3 || cmds[0][1] != "serve" || cmds[1][1] != "listen" || cmds[2][1] != "trigger" {
		t.Fatalf("quick start commands = %q, want serve, listen and trigger", cmds)
	}
	for _, c := range cmds {
		if strings.ContainsAny(strings.Join(c, " "), `"'$\[]`) {
			t.Fatalf("quick start command %q: quoting or brackets this test does not parse", c)
		}
	}
	return cmds
}

// TestQuickStart runs the README's quick start as written, with the built binary in
// a fresh folder: serve, listen, trigger, and the notification shows in listen's
// output with the subscription trigger named. The server's port is a free one, given
// through GRAPHHOOK_ADDR and GRAPHHOOK_SERVER, which the commands honour as they
// honour their flags.
func TestQuickStart(t *testing.T) {
	t.Parallel()
	cmds := quickStart(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	env := append(os.Environ(), "GRAPHHOOK_ADDR="+addr, "GRAPHHOOK_HTTPS_ADDR=off", "GRAPHHOOK_SERVER=http://"+addr)
	runIn := func(args []string) *proc {
		cmd := exec.Command(binary(t), args[1:]...)
		cmd.Dir, cmd.Env = dir, env
		return startCmd(t, cmd)
	}

	serve := runIn(cmds[0])
	serve.lineWith(t, "graphhook listening on http://"+addr)
	listen := runIn(cmds[1])
	sub := subscriptionCreatedRE.FindStringSubmatch(listen.lineWith(t, "subscription "))
	if sub == nil {
		t.Fatal("listen printed no subscription")
	}

	trig := exec.Command(binary(t), cmds[2][1:]...)
	trig.Dir, trig.Env = dir, env
	out, err := trig.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v\n%s", cmds[2], err, out)
	}
	if !regexp.MustCompile(`created  subscription ` + sub[1] + `  to http://127\.0\.0\.1:[0-9]+`).Match(out) {
		t.Fatalf("%q printed %q; want the notification of subscription %s", cmds[2], out, sub[1])
	}
	listen.lineWith(t, "] created Users/22222222-0000-4000-8000-000000000001/Messages/")
	if l := listen.line(t); l != "  subscriptionId: "+sub[1] {
		t.Errorf("listen printed %q after the notification line, want its subscription %s", l, sub[1])
	}
}

// startCmd starts cmd, a graphhook command, reading its output as startBinary does.
func startCmd(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	stdout, _ := cmd.StdoutPipe()
	p := &proc{cmd: cmd, lines: make(chan string, 1000), stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}
