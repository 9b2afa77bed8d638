// Package posterior holds the posteriors shipped with wormwatch: for a
// built-in scenario calibrated with `wormwatch calibrate` (its calibration
// file is docs/calibration/NAME.toml), the posterior/ folder the
// calibration wrote (calibration.json, posterior.parquet), embedded, so
// that `wormwatch replay NAME --posterior builtin` needs no file.
package posterior

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed codered-2001/calibration.json codered-2001/posterior.parquet
var files embed.FS

// For returns the posterior folder shipped for the built-in scenario name
// (its files at the root), or false when none is.
func For(name string) (fs.FS, bool) {
	sub, err := fs.Sub(files, name)
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(sub, "calibration.json"); err != nil {
		return nil, false
	}
	return sub, true
}

// Names returns the built-in scenarios a posterior is shipped for, sorted.
func Names() []string {
	var out []string
	ents, _ := files.ReadDir(".")
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}
