package store

// A listing may also filter and order objects by properties of their JSON data, so
// that a collection's $filter, $orderby, $top and $count are answered by the
// database, from an index where one exists, instead of by loading the collection.
// The conditions below are defined so that a backend can answer them exactly in SQL;
// a caller (see odata.Filter.StoreCond) translates into them only what keeps the
// meaning it would give in memory, and evaluates the rest itself.

// PropType says what a property's stored values are. The workload that declares a
// property promises it: the store does not check.
type PropType uint8

const (
	// PropString values are JSON strings, JSON null or absent.
	PropString PropType = iota
	// PropBool values are JSON booleans, JSON null or absent.
	PropBool
	// PropTime values are JSON strings, JSON null or absent, ordered and compared as
	// text. With a Layout they are all written in that one layout, in UTC, so that
	// their text order is their time order.
	PropTime
)

// Prop is a property of an object's data.
type Prop struct {
	// Path names the property, '/' between the names of nested objects
	// (from/emailAddress/address). Names are identifiers: letters, digits, '_'.
	Path string
	Type PropType
	// Layout is the layout every value of a PropTime is written in, for a caller to
	// format the times it compares them with; "" when the values' forms vary (the
	// property can then be ordered by as text, but no time compares with it).
	Layout string
}

// CondOp is the operator of a Cond.
type CondOp uint8

const (
	// CondAnd holds when every Sub holds (true when there is none).
	CondAnd CondOp = iota
	// CondOr holds when some Sub holds.
	CondOr
	// CondNot holds when Sub[0] does not.
	CondNot
	// CondEq holds when Prop's value equals Value: for a string Value, a string equal
	// to it ignoring case (see Fold); for a bool, that bool; for nil, JSON null or
	// absent.
	CondEq
	// CondIn holds when CondEq holds for one of Values.
	CondIn
	// CondPrefix holds when Prop's value is a string that starts with Value (a
	// string), ignoring case.
	CondPrefix
	// CondLt, CondLe, CondGt and CondGe compare Prop's value, a string, with Value,
	// a string, as text (byte order). They are meant for PropTime, whose text order
	// is its time order; any other value (null, absent, a boolean) fails them.
	CondLt
	CondLe
	CondGt
	CondGe
	// CondUnplain holds when Prop's value is a string that Fold and the text order
	// do not order as OData does (see Plain).
	CondUnplain
)

// Cond is a condition on an object's data.
type Cond struct {
	Op     CondOp
	Sub    []Cond
	Prop   Prop
	Value  any   // string, bool or nil
	Values []any // CondIn's; each a string, bool or nil
}

// Fold is how the store compares strings ignoring case: it lower-cases ASCII letters
// and turns the two non-ASCII letters whose case folds to ASCII (the Kelvin sign and
// the long s) into theirs, so that strings.EqualFold(a, b) holds exactly when
// Fold(a) == Fold(b) for any b made of ASCII characters. Condition values must be
// ASCII; the store folds them itself.
func Fold(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r == '\u212a':
			r = 'k'
		case r == '\u017f':
			r = 's'
		}
		b = append(b, string(r)...)
	}
	return string(b)
}

// Plain reports whether a string sorts the same under the store's order (Fold, then
// byte order) as under OData's, which folds every letter's case and orders strings
// shaped like dates as instants before all others: a plain string holds printable
// ASCII only and is not shaped like a date (no '-' as its 5th and 8th characters).
func Plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return len(s) < 8 || s[4] != '-' || s[7] != '-'
}

// OrderKey orders a listing by a property: strings by Fold then byte order (times in
// their layout by text, which is their time order), nulls and absent values first
// ascending, last descending. Booleans cannot be ordered by. Objects that tie on
// every key are ordered by id (see ObjectQuery.IDDesc).
type OrderKey struct {
	Prop Prop
	Desc bool
}
