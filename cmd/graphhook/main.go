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
	"slices"
	"sort"
	"strings"
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
	if os.Getenv("GOGC") == "" {
		// Collect when the heap has grown to five times what the last collection kept,
		// not twice: every request allocates its JSON, and collections were a tenth of
		// the CPU of a busy server, whose live heap is tens of MB. GOGC still decides
		// when set.
		debug.SetGCPercent(400)
	}
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
		fmt.Fprintf(stderr, "graphhook: unknown command %q", args[0])
		if near := closest(args[0], commandNames()); near != "" {
			fmt.Fprintf(stderr, " (did you mean %s?)", near)
		}
		fmt.Fprint(stderr, "\n\n")
		usage(stderr)
		return 2
	}
	if wantsHelp(args[1:]) {
		return run(ctx, []string{"help", args[0]}, stdout, stderr)
	}
	warnUnknownEnv(stderr, os.Environ())
	if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(stderr, "graphhook %s: %s\n", args[0], oneLine(err.Error()))
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "graphhook: Microsoft Graph change notifications, self-hosted.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: graphhook <command> [--flag value]...")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-14s %s\n", "help", "show this list, or a command's flags: graphhook help <command>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag can also be set in the environment as GRAPHHOOK_<NAME> (e.g. GRAPHHOOK_ADDR).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Examples:")
	fmt.Fprintln(w, "  graphhook serve")
	fmt.Fprintln(w, "  graphhook help listen")
	fmt.Fprintln(w, `  graphhook listen --resource "/users/adele@contoso.onmicrosoft.com/messages" --change-type created`)
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// wantsHelp tells whether a command's arguments ask for its help (-h, -help,
// --help before a "--"), which is output like `graphhook help <command>`, not an error.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
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

// oneLine folds a multi-line error (the PostgreSQL driver reports each connection
// attempt on a line of its own) into one line, dropping repeated parts.
func oneLine(msg string) string {
	var parts []string
	for _, p := range strings.Split(msg, "\n") {
		p = strings.TrimSpace(p)
		if p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}
