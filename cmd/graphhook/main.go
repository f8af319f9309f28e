// Command graphhook is a self-hostable server that speaks the Microsoft Graph change
// notification protocol. Run `graphhook help` for its subcommands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"syscall"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands are graphhook's subcommands, by name.
var commands = map[string]command{
	"serve":   {summary: "run the server (embedded store and demo tenant by default)", run: runServe},
	"bench":   {summary: "measure change→notification throughput and latency against loopback receivers", run: runBench},
	"listen":  {summary: "subscribe to a resource and print (or forward) its notifications, for development", run: runListen},
	"version": {summary: "print graphhook's version (module version and source revision)", run: runVersion},
	"ca":      {summary: "show (creating it if needed) graphhook's local CA certificate, how to trust it, and export it", run: runCA},
	"trigger": {summary: "make a change of a resource type (message, event, user, …) and print the notifications it causes", run: runTrigger},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "graphhook: unknown command %q\n\n", args[1])
				usage(stderr)
				return 2
			}
			// Help asked for is output, not an error: its flags go to stdout.
			c.run(ctx, []string{"-h"}, stdout, stdout)
			return 0
		}
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "graphhook: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(stderr, "graphhook %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "graphhook: Microsoft Graph change notifications, self-hosted.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: graphhook <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-14s %s\n", "help", "show this list, or a command's flags: graphhook help <command>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag can also be set in the environment as GRAPHHOOK_<NAME> (e.g. GRAPHHOOK_ADDR).")
}

// runVersion prints the version the binary was built from: the module version when
// installed with go install, and the source revision and its state when built from a
// checkout.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	version, revision, modified := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	line := "graphhook " + version
	if revision != "" {
		line += " " + revision
		if modified {
			line += " (modified)"
		}
	}
	fmt.Fprintf(stdout, "%s %s\n", line, runtime.Version())
	return nil
}
