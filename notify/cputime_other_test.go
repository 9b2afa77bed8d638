//go:build !unix

package notify

import "time"

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }
