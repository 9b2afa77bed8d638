// Package param reads, checks, writes and documents parameter structs
// declared once with struct tags. It knows nothing of worms: any struct
// whose fields carry these tags works.
//
//	toml     the key (toml:"-" or no tag: not a parameter)
//	default  the default value, as text (lists: comma-separated)
//	min, max bounds of a number, a duration ("1ms", "1h") or a date-time
//	         (RFC 3339: "1970-01-01T00:00:00Z"; a date-time not set is not
//	         checked); for a list, of each element
//	zero     0 is allowed besides min to max, and means this ("never")
//	maxlen   most elements of a list or tables of an array of tables
//	valid    a named rule for a string: "name", a name that becomes part of
//	         a file path (package internal/names)
//	enum     allowed values, comma-separated; for a list, of each element
//	when     "key=value[,value...]": the field (a sub-table or a key) applies
//	         only when the sibling field with TOML key key has one of the values
//	doc      one line of documentation
//
// Fields are strings, booleans, integers, floats, Duration, time.Time,
// other encoding.TextUnmarshaler types, lists of those, structs (TOML tables)
// and slices of structs (arrays of tables). Types supply defaults a tag
// cannot (a list of tables, a distribution) with a SetDefaults method
// (Defaulter) and rules between their own fields with a Check method
// (Checker).
//
// Every rule a tag states is checked by Validate and written by Doc, so the
// documentation and the checks cannot disagree.
//
// A Loader fills a struct in layers: Defaults, a TOML document (Decode),
// then --set assignments (Set), remembering which keys were given and where,
// so that Validate can say which line or assignment a bad value came from
// and flag keys given where they do not apply. Marshal writes the resolved
// struct back as TOML and Doc writes a Markdown reference of every key.
package param
