package httpapi_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/graphhook/graphhook/internal/httpapi"
)

// plainPath is a path without key syntax, colon paths or percent-encoding, which
// SplitPath must split at slashes and nothing else.
var plainPath = regexp.MustCompile(`^[A-Za-z0-9._~/-]*$`)

// FuzzSplitPath splits arbitrary resource paths: never a panic, and a plain path
// comes back as its slash-separated segments.
func FuzzSplitPath(f *testing.F) {
	for _, s := range []string{
		"users('a b')/mailFolders('Inbox')/messages", "users(id='x')", "users/adele%40contoso.com",
		"drives/d/root:/a/b.txt:/content", "drives/d/root:/a/b.txt", "drives/d/items/ID:/new.txt:/content",
		"chats/19:abc@thread.v2/messages", "groups('it''s')", "/users/x/", "sites/contoso.sharepoint.com:/sites/a:",
		"users()", "users('')", "users(')", "users(''')", "a(b(c))", "x%zz", "x%", ":", "::", "/:/", "a:/", "(", ")", "", "//",
		"users(id=)", "users(=)", "me/drive/root:/%E2%82%AC.txt:/content",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, err := httpapi.SplitPath(p)
		if err != nil {
			if segs != nil {
				t.Errorf("SplitPath(%q) = %q, %v, want no segments with the error", p, segs, err)
			}
			return
		}
		if plainPath.MatchString(p) {
			var want []string
			if trimmed := strings.Trim(p, "/"); trimmed != "" {
				want = strings.Split(trimmed, "/")
			}
			if !slices.Equal(segs, want) {
				t.Errorf("SplitPath(%q) = %q, want %q", p, segs, want)
			}
		}
	})
}
