package bench

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Config is what `graphhook bench` can be told.
type Config struct {
	// Scenario is single, batched, fanout, slow-endpoint, memory, rich or mixed.
	Scenario string
	// Duration is how long changes are driven; required.
	Duration time.Duration
	// Rate is changes per second (default 0: as fast as the API takes them; fanout 5).
	Rate int
	// Subs is the number of subscriptions (default per scenario, see defaultSubs).
	Subs int
	// Clients is the number of concurrent API clients (default 2×CPUs).
	Clients int
	// Messages, Users and Items size the mixed scenario's collections (defaults
	// 30,000 messages in one mailbox, 10,000 users, 10,000 drive items).
	Messages, Users, Items int
	// Target is the base URL of a running graphhook to measure, or a comma-separated
	// list of the nodes of one database, over which the changes are spread in turn
	// (default "": start one through Options.Start).
	Target string
	// PGSample is a postgres:// URL of the database the target uses; when set, the
	// run samples its pg_stat_activity and reports the share of transaction time
	// spent waiting for locks (default "": no sampling).
	PGSample string
}

// Validate checks c as the user gave it; its messages name the flags.
func (c *Config) Validate() error {
	switch c.Scenario {
	case "single", "batched", "fanout", "slow-endpoint", "memory", "rich", "mixed":
	default:
		return fmt.Errorf("--scenario must be single, batched, fanout, slow-endpoint, memory, rich or mixed, not %q", c.Scenario)
	}
	if c.Messages < 0 || c.Users < 0 || c.Items < 0 {
		return errors.New("--messages, --users and --items must not be negative")
	}
	if (c.Messages != 0 || c.Users != 0 || c.Items != 0) && c.Scenario != "mixed" {
		return errors.New("--messages, --users and --items size the mixed scenario's collections; other scenarios take none")
	}
	if c.Duration <= 0 {
		return errors.New("--duration must be positive")
	}
	if c.Rate < 0 || c.Subs < 0 || c.Clients < 0 {
		return errors.New("--rate, --subs and --clients must not be negative")
	}
	if err := validateTargets(c.Target); err != nil {
		return err
	}
	if len(targets(c.Target)) > 1 && (c.Scenario == "rich" || c.Scenario == "mixed") {
		return fmt.Errorf("the %s scenario measures one node: --target takes one URL", c.Scenario)
	}
	if err := validatePGSample(c.PGSample); err != nil {
		return err
	}
	if c.Target != "" && c.Scenario == "memory" {
		return errors.New("the memory scenario measures this process; it cannot use --target")
	}
	if c.Target != "" && c.Scenario == "rich" && c.Subs > 1 {
		// Against a server the subscriptions go through the API, and Graph takes one
		// chat message subscription per app per chat.
		return errors.New("the rich scenario with --target takes --subs 1: Graph allows one subscription per app per chat")
	}
	return nil
}

// defaultSubs is each scenario's number of subscriptions when --subs is not given.
func defaultSubs(scenario, target string) int {
	if scenario == "rich" && target != "" {
		return 1
	}
	return map[string]int{"single": 1, "batched": 100, "fanout": 1000, "slow-endpoint": 10, "memory": 100000, "rich": 10}[scenario]
}

// fillDefaults sets what the user left at zero.
func (c *Config) fillDefaults() {
	c.Subs = cmp.Or(c.Subs, defaultSubs(c.Scenario, c.Target))
	if c.Scenario == "mixed" && c.Clients == 0 {
		// Requests go out on schedule; enough workers that a slow one does not hold
		// the offered rate back.
		c.Clients = 64
	}
	c.Clients = cmp.Or(c.Clients, 2*runtime.NumCPU())
	if c.Scenario == "mixed" {
		c.Messages = cmp.Or(c.Messages, defaultMixedMessages)
		c.Users = cmp.Or(c.Users, defaultMixedUsers)
		c.Items = cmp.Or(c.Items, defaultMixedItems)
		c.Rate = cmp.Or(c.Rate, defaultMixedRate)
	}
	if c.Scenario == "fanout" && c.Rate == 0 {
		c.Rate = 5 // each change is 1,000 notifications
	}
}
