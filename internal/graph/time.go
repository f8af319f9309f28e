package graph

import "time"

// TimeLayout is the DateTimeOffset form graphhook emits: UTC with seven fractional
// digits, as Graph writes subscription and notification times.
const TimeLayout = "2006-01-02T15:04:05.0000000Z"

// FormatTime renders t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime accepts any RFC 3339 form Graph clients send (with or without fraction,
// with Z or an offset) and a bare timestamp without zone, read as UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02T15:04:05.9999999", s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
