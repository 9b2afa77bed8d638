package notify

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestJobErrors: a file of the options that cannot be read is an
// *OptionError naming the option (the owner table's own line and field
// inside); a folder that cannot be written is a *WriteError and nothing
// is written; sending without mail options is refused.
func TestJobErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("prefix,owner,contact\n10.0.0.0/33,X,x@example.net\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Owners: bad}, "owners"},
		{Options{Owners: "testdata/owners.csv", Delegations: []string{filepath.Join(dir, "none")}}, "delegations"},
		{Options{Owners: "testdata/owners.csv", OptOut: filepath.Join(dir, "none")}, "opt_out"},
	} {
		_, err := NewJob(c.opt)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != c.want {
			t.Errorf("%+v: %v, want an *OptionError of %s", c.opt, err, c.want)
		}
	}
	var ie *InputError
	if _, err := NewJob(Options{Owners: bad}); !errors.As(err, &ie) || ie.Line != 2 || ie.Field != "prefix" {
		t.Errorf("the owner table's error %v: want its line 2, field prefix", err)
	}

	job, err := NewJob(Options{Owners: "testdata/owners.csv", State: filepath.Join(dir, "no-such-folder", "state.db")})
	if err != nil {
		t.Fatal(err)
	}
	d := &Detections{Sources: testSources()}
	var oe *OptionError
	if _, err := job.Run(t.Context(), d, "", false); !errors.As(err, &oe) || oe.Option != "state" {
		t.Errorf("a state file that cannot be opened: %v", err)
	}
	if _, err := job.Run(t.Context(), d, "", true); err == nil {
		t.Error("sending without mail options: no error")
	}
	job, _ = NewJob(Options{Owners: "testdata/owners.csv"})
	out := dir // exists: notices are never written over a folder
	var we *WriteError
	if _, err := job.Run(t.Context(), d, out, false); !errors.As(err, &we) || we.Dir != out {
		t.Errorf("a folder that cannot be written: %v", err)
	}
}

// TestJobSkipEmpty: a run with no notice writes its folder, unless
// SkipEmpty (the service's schedule); one with notices writes it.
func TestJobSkipEmpty(t *testing.T) {
	dir := t.TempDir()
	for _, skip := range []bool{false, true} {
		job, err := NewJob(Options{Owners: "testdata/owners.csv", SkipEmpty: skip})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, map[bool]string{false: "written", true: "skipped"}[skip])
		sum, err := job.Run(t.Context(), &Detections{}, out, false)
		if _, statErr := os.Stat(filepath.Join(out, IndexName)); err != nil || (statErr == nil) == skip || (sum.Dir == "") != skip {
			t.Errorf("SkipEmpty %v, no notice: %v, folder %q (%v)", skip, err, sum.Dir, statErr)
		}
		sum, err = job.Run(t.Context(), &Detections{Sources: testSources()}, out+"-2", false)
		if err != nil || sum.Dir != out+"-2" || len(sum.Notices) == 0 {
			t.Errorf("SkipEmpty %v, notices: %v, folder %q, %d notices", skip, err, sum.Dir, len(sum.Notices))
		}
	}
}
