package subscription_test

import (
	"os"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/testserver"
)

// TestReadmeResources checks that the README's table of subscribable resources
// names every resource type of the catalog, with each of its paths in one of the
// type's rows.
func TestReadmeResources(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Subscribable resources\n")
	if !ok {
		t.Fatal("README.md has no section \"## Subscribable resources\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string][]string{} // type → its table rows
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 8 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		typ := strings.Trim(strings.TrimSpace(cells[1]), "`")
		rows[typ] = append(rows[typ], cells[2])
	}
	if len(rows) == 0 {
		t.Fatal("the Subscribable resources section has no table rows")
	}
	for _, d := range testserver.Resources() {
		paths, ok := rows[d.Type]
		if !ok {
			t.Errorf("README's Subscribable resources table has no row for %s", d.Type)
			continue
		}
		all := strings.Join(paths, " ")
		for _, p := range d.Paths {
			if !strings.Contains(all, "`/"+p.Pattern+"`") {
				t.Errorf("README's rows for %s do not name the path `/%s`", d.Type, p.Pattern)
			}
		}
	}
}
