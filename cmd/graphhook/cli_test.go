package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// flagsOf returns the flag names of a command, as the help and the README name them.
func flagsOf(t *testing.T, command string) []string {
	t.Helper()
	c, ok := commands[command]
	if !ok {
		t.Fatalf("no command %q", command)
	}
	fc := &flagCollector{Writer: io.Discard}
	c.run(context.Background(), nil, nil, fc)
	if len(fc.names) == 0 && command != "version" {
		t.Fatalf("command %q has no flags (does it call parseFlags first?)", command)
	}
	return fc.names
}

// shellFlag matches a --flag of a command line.
var shellFlag = regexp.MustCompile(`(?:^|\s)--([a-z][a-z0-9-]*)`)

// checkCommandLine fails the test unless every --flag of line (graphhook <command>
// …) is a flag of that command.
func checkCommandLine(t *testing.T, where, line string) {
	t.Helper()
	fields := strings.Fields(line)
	i := slices.Index(fields, "graphhook")
	if i < 0 || i+1 >= len(fields) {
		t.Errorf("%s: %q names no graphhook command", where, line)
		return
	}
	command := fields[i+1]
	if command == "help" {
		return
	}
	if _, ok := commands[command]; !ok {
		t.Errorf("%s: %q: graphhook has no command %q", where, line, command)
		return
	}
	known := flagsOf(t, command)
	for _, m := range shellFlag.FindAllStringSubmatch(line, -1) {
		if !slices.Contains(known, m[1]) {
			t.Errorf("%s: %q: graphhook %s has no flag --%s", where, line, command, m[1])
		}
	}
}

// TestCommandHelp: each command's help is on stdout with exit 0, whether asked as
// `help <command>` or `<command> --help`; it spells every flag --name, as the
// README does, and gives examples whose flags all exist.
func TestCommandHelp(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"serve", "listen", "bench", "ca"} {
		for _, args := range [][]string{{"help", name}, {name, "--help"}, {name, "-h"}} {
			var stdout, stderr strings.Builder
			if code := run(context.Background(), args, &stdout, &stderr); code != 0 || stderr.Len() > 0 {
				t.Errorf("run(%q) = %d, stderr %q; want 0 and nothing on stderr", args, code, stderr.String())
			}
			help := stdout.String()
			for _, f := range flagsOf(t, name) {
				if !strings.Contains(help, "\n  --"+f+" ") && !strings.Contains(help, "\n  --"+f+"\n") {
					t.Errorf("run(%q) lacks a line for --%s:\n%s", args, f, help)
				}
			}
			if regexp.MustCompile(`(?m)^\s+-[a-z]`).MatchString(help) {
				t.Errorf("run(%q) spells a flag with one dash:\n%s", args, help)
			}
			_, examples, ok := strings.Cut(help, "\nExamples:\n")
			if !ok {
				t.Errorf("run(%q) has no examples:\n%s", args, help)
				continue
			}
			n := 0
			for l := range strings.Lines(examples) {
				if strings.HasPrefix(l, "  graphhook "+name) {
					n++
					checkCommandLine(t, "help "+name, l)
				}
			}
			if n == 0 {
				t.Errorf("run(%q): no example runs graphhook %s:\n%s", args, name, examples)
			}
		}
	}
}

// TestUsageErrors: unknown commands and flags, stray arguments and flag
// combinations that would be ignored exit 2 with one message naming the problem.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"lisen"}, `unknown command "lisen" (did you mean listen?)`},
		{[]string{"serve", "--adr", "x"}, "graphhook serve: unknown flag --adr (did you mean --addr?)"},
		{[]string{"serve", "-adr", "x"}, "unknown flag --adr"},
		{[]string{"bench", "--duration"}, "flag needs an argument: --duration"},
		{[]string{"bench", "--duration", "soon"}, `invalid value "soon" for flag --duration`},
		{[]string{"ca", "extra"}, `unexpected argument "extra"`},
		{[]string{"listen", "--resource", "/users", "--change-type", "updated", "--client-secret", "s"}, "--client-secret needs --client-id"},
		{[]string{"serve", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"serve", "--https-addr", "off", "--tls-name", "graphhook.test"}, "which --https-addr off turns off"},
		{[]string{"serve", "--https-addr", "off", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, "which --https-addr off turns off"},
		{[]string{"serve", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-name", "graphhook.test"}, "with --tls-cert the certificate given is served as it is"},
		{[]string{"serve", "--lease-ttl", "5s"}, "--lease-ttl applies to nodes sharing a --database"},
		{[]string{"serve", "--profile", "lax"}, "--profile must be dev or strict"},
	}
	for _, tt := range tests {
		var stdout, stderr strings.Builder
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// TestUnknownEnvironment: a GRAPHHOOK_ variable no command reads is reported, with
// the known one it resembles; one another command reads is not.
func TestUnknownEnvironment(t *testing.T) {
	t.Setenv("GRAPHHOOK_ADRR", "127.0.0.1:1")
	t.Setenv("GRAPHHOOK_SERVER", "http://127.0.0.1:1") // listen's, not version's
	t.Setenv("GRAPHHOOK_NOTHING_LIKE_IT", "1")
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("version = %d, stderr %q", code, stderr.String())
	}
	want := "graphhook: warning: GRAPHHOOK_ADRR is not a graphhook setting and is ignored (did you mean GRAPHHOOK_ADDR?)\n" +
		"graphhook: warning: GRAPHHOOK_NOTHING_LIKE_IT is not a graphhook setting and is ignored\n"
	if stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

// TestStartupErrors: a server that cannot start says why in one line on stderr and
// exits 1, without a panic and without printing the banner.
func TestStartupErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, []byte("x"), 0o644)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable PostgreSQL", []string{"--database", "postgres://nobody@127.0.0.1:1/x"}, "graphhook serve: database: postgres: failed to connect to `user=nobody database=x`: 127.0.0.1:1 (127.0.0.1): dial error: dial tcp 127.0.0.1:1: connect: connection refused"},
		// .onion names never reach DNS (RFC 7686): unresolvable without a network.
		{"unresolvable host", []string{"--database", "postgres://nobody@graphhook-test.onion/x"}, `graphhook serve: database: cannot resolve host "graphhook-test.onion": no address`},
		{"data names a file", []string{"--data", file}, "graphhook serve: data folder " + file + ": sqlite: mkdir " + file + ": not a directory"},
		{"port in use", []string{"--addr", busy.Addr().String()}, "graphhook serve: listen: listen tcp " + busy.Addr().String() + ": bind: address already in use"},
		{"HTTPS port in use", []string{"--https-addr", busy.Addr().String()}, "graphhook serve: listen (https): listen tcp " + busy.Addr().String() + ": bind: address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--https-addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data")}, tt.args...)
			cmd := exec.Command(binary(t), args...)
			cmd.Env = append(os.Environ(), "GODEBUG=netdns=go")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("serve %q: %v, want exit status 1; stderr:\n%s", tt.args, err, stderr.String())
			}
			if got := stderr.String(); got != tt.want+"\n" {
				t.Errorf("serve %q: stderr = %q, want the one line %q", tt.args, got, tt.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("serve %q printed %q on stdout, want nothing (no banner)", tt.args, stdout.String())
			}
		})
	}
}
