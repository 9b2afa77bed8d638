// Package packet reads packet captures into detect's records: pcap and
// pcapng files (plain or gzip), one at a time or through detect's
// Analyzer (an Opener, so that folders of captures and a capture on
// standard input, `tcpdump -w - | wormwatch detect -`, are read like logs).
//
// Every TCP SYN (SYN set, ACK not) is a connection attempt, counted as the
// network telescope analyses of Code Red and Slammer counted probes (every
// SYN into dark space is unsolicited). Where the capture holds payloads,
// the TCP streams to HTTP ports are reassembled (gopacket's reassembly) and
// each HTTP request (its request line and headers) becomes a request
// record with the time of the packet that carried its first byte, so that
// detect's signatures match requests in captures as they match log lines.
//
// Link types: Ethernet (with 802.1Q and 802.1ad VLAN tags), Linux cooked
// capture (SLL and SLL2), raw IP (IPv4 and IPv6), BSD loopback (NULL and
// LOOP); IPv4 and IPv6 (with extension headers). The fixed headers of the
// SYN path are decoded by hand (see decode.go for why and how fast), and
// only packets with payload to an HTTP port go to the reassembler.
//
// Each record carries its packet number (Record.Pos), and Reader.Position
// says which file, packet and record it came from, so that a live service
// can resume after the last record it stored.
package packet
