package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/graphhook/graphhook/internal/nearest"
)

var errUsage = errors.New("usage")

// newFlagSet returns a flag set whose flags also read GRAPHHOOK_<NAME> from the
// environment (command-line values win), and whose help (printHelp) spells flags
// as the README does, --name.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printHelp(fs.Output(), fs) }
	return fs
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return "GRAPHHOOK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags applies the environment, then the arguments. A parse error is one
// line naming the flag as the user wrote it (--name) and where the flags are
// listed; -h prints the command's help.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if c, ok := fs.Output().(*flagCollector); ok {
		// Not a run: the caller only wants to know the command's flags.
		fs.VisitAll(func(f *flag.Flag) { c.names = append(c.names, f.Name) })
		return errUsage
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s=%q: %v", env, v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	out := fs.Output()
	fs.SetOutput(io.Discard) // flag's own messages spell flags -name; ours follow
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return errUsage
	case err != nil:
		fmt.Fprintf(out, "graphhook %s: %s\n", fs.Name(), flagError(fs, err))
		fmt.Fprintf(out, "Run 'graphhook help %s' for its flags.\n", fs.Name())
		return errUsage
	case fs.NArg() > 0:
		fmt.Fprintf(out, "graphhook %s: unexpected argument %q (every setting is a --flag)\n", fs.Name(), fs.Arg(0))
		fmt.Fprintf(out, "Run 'graphhook help %s' for its flags.\n", fs.Name())
		return errUsage
	}
	return nil
}

// isSet tells whether the user set a flag, on the command line or in the
// environment, rather than leaving its default.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if _, ok := os.LookupEnv(envName(name)); ok {
		set = true
	}
	return set
}

// flagError rewrites the flag package's message with two dashes and, for an
// unknown flag, the known one it most resembles.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		var known []string
		fs.VisitAll(func(f *flag.Flag) { known = append(known, f.Name) })
		msg = "unknown flag --" + name
		if near := closest(name, known); near != "" {
			msg += " (did you mean --" + near + "?)"
		}
		return msg
	}
	for _, p := range []string{"flag needs an argument: -", "for flag -"} {
		msg = strings.Replace(msg, p, p+"-", 1)
	}
	return msg
}

// printHelp writes a command's help: what it does, its flags with their
// environment variables and defaults, and examples.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	h := helps[fs.Name()]
	fmt.Fprintf(w, "Usage: graphhook %s [--flag value]...\n", fs.Name())
	if h.about != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(h.about))
	}
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) > 0 {
		fmt.Fprintln(w, "\nFlags (each also read from GRAPHHOOK_<NAME>, e.g. "+envName(flags[0].Name)+"):")
	}
	for _, f := range flags {
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		fmt.Fprintln(w, line)
		fmt.Fprintf(w, "        %s", usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	}
	if len(h.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range h.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// flagCollector, given to a command as its stderr, makes parseFlags collect the
// command's flag names instead of running it.
type flagCollector struct {
	io.Writer
	names []string
}

// knownEnv is every GRAPHHOOK_ variable graphhook reads: each command's flags, and
// the ones the test scripts set for the test binaries.
func knownEnv() []string {
	names := []string{"GRAPHHOOK_REQUIRE_POSTGRES", "GRAPHHOOK_PG_BIN", "GRAPHHOOK_SOAK", "GRAPHHOOK_INTEROP", "GRAPHHOOK_TEST_RACE",
		"GRAPHHOOK_HTTP_URL", "GRAPHHOOK_HTTPS_URL", "GRAPHHOOK_CA_FILE", "GRAPHHOOK_START_ERROR", "GRAPHHOOK_REQUIRE_BROWSER"}
	for _, c := range commands {
		fc := &flagCollector{Writer: io.Discard}
		c.run(context.Background(), nil, io.Discard, fc)
		for _, n := range fc.names {
			names = append(names, envName(n))
		}
	}
	sort.Strings(names)
	return names
}

// warnUnknownEnv reports each GRAPHHOOK_ variable of env that no command reads: a
// misspelt setting would otherwise be silently ignored.
func warnUnknownEnv(w io.Writer, env []string) {
	known := knownEnv()
	var unknown []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GRAPHHOOK_") && !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		msg := "graphhook: warning: " + name + " is not a graphhook setting and is ignored"
		if near := closest(name, known); near != "" {
			msg += " (did you mean " + near + "?)"
		}
		fmt.Fprintln(w, msg)
	}
}

// closest returns the name of known nearest to s by edit distance when it is near
// enough to be a likely typo (at most 2 edits, or a third of the name), else "".
func closest(s string, known []string) string {
	best, bestD := "", 0
	for _, k := range known {
		if d := nearest.Distance(strings.ToLower(s), strings.ToLower(k)); best == "" || d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// listFlag is a flag that may be repeated, each value a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}
