// Package version holds the program's version, recorded in every result.
package version

// Version is wormwatch's version. Results record it so a run can be traced
// to the code that made it.
const Version = "0.1.0"
