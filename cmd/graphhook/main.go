// Command graphhook is a self-hostable server that speaks the Microsoft Graph change
// notification protocol. Run `graphhook help` for its subcommands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	"serve":  {summary: "run the server (embedded store and demo tenant by default)", run: runServe},
	"bench":  {summary: "measure change→notification throughput and latency against loopback receivers", run: runBench},
	"listen": {summary: "subscribe to a resource and print (or forward) its notifications, for development", run: runListen},
	"ca":     {summary: "show (creating it if needed) graphhook's local CA certificate, how to trust it, and export it", run: runCA},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				c.run(ctx, []string{"-h"}, stdout, stderr)
				return 0
			}
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
