package replay

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"

	"wormwatch/internal/thousands"
	"wormwatch/results"
)

// WriteValidation writes the validation table of a replay for people:
// each published figure beside the simulated median and 5%-95% band, the
// logistic fit of 19 July, the traffic quantities and the predictions for
// the restart of 1 August.
func WriteValidation(w io.Writer, r *results.Replay) {
	v := r.Validation
	fmt.Fprintf(w, "Validation of %s over %d seeds (simulated median and 5%%-95%% band):\n\n", r.Scenario, len(r.Seeds))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tpublished\tsimulated median [5%, 95%]\tinside\tsource")
	for _, c := range v.Checks {
		in := "no"
		if c.Inside {
			in = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s [%s, %s]\t%s\t%s\n", c.Name, num(c.Measured), num(c.P50), num(c.P05), num(c.P95), in, c.Source)
	}
	tw.Flush()
	l := v.Logistic
	if l.KPerHour[1] > 0 {
		fmt.Fprintf(w, "\nLogistic fit to %s on 19 July: K = %.2f per hour [%.2f, %.2f] (published range %.1f to %.1f, %s); T = %s UTC\n",
			l.Series, l.KPerHour[1], l.KPerHour[0], l.KPerHour[2], l.PublishedKLow, l.PublishedKHigh, l.Source, l.T[1].Format("2006-01-02 15:04"))
	}
	if len(v.Traffic) > 0 {
		fmt.Fprintln(w)
		writeQuantities(w, v.Traffic)
	}
	if len(v.Restart) > 0 {
		fmt.Fprintln(w, "\nThe restart of 1 August 2001, predicted (out of sample: no figure of 1 August or later set a parameter):")
		writeQuantities(w, v.Restart)
	}
}

// writeQuantities writes a table of simulated quantities: median, 5%-95%
// band and unit (rates per hour with two decimals).
func writeQuantities(w io.Writer, qs []results.Quantity) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "quantity\tmedian [5%, 95%]\tunit")
	for _, q := range qs {
		p := num
		if q.Unit == "per hour" {
			p = func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
		}
		fmt.Fprintf(tw, "%s\t%s [%s, %s]\t%s\n", q.Name, p(q.P50), p(q.P05), p(q.P95), q.Unit)
	}
	tw.Flush()
}

// num formats a figure for a table: shares with two decimals, large
// numbers with three significant digits or thousands separators.
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case x != 0 && math.Abs(x) < 1:
		return strconv.FormatFloat(x, 'f', 3, 64)
	case math.Abs(x) >= 1e7:
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	return thousands.Round(x)
}
