// Package archtest holds no code: its test keeps the import rules of
// docs/architecture.md (which package may import which, the depth of the
// graph, no engine on the data side, no gopacket in the scenario reader),
// reading the graph with `go list -deps -json`.
package archtest
