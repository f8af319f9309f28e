// Package nearest measures how far apart two names are, for "did you mean …?"
// suggestions (an unknown flag or environment variable, a misspelt permission).
package nearest

// Distance is the Levenshtein distance of a and b, by bytes (the names it compares
// are ASCII): the fewest single-byte insertions, deletions and substitutions that
// turn one into the other.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
