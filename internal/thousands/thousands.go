// Package thousands formats counts with thousands separators (359104 is
// "359,104"), the one formatter every text, table and page of wormwatch
// uses. The grouping is golang.org/x/text/message's for English.
package thousands

import (
	"math"
	"strconv"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// printer groups digits in threes with commas. A Printer is safe for
// concurrent use: each call takes its own formatting state.
var printer = message.NewPrinter(language.English)

// Int formats n with thousands separators: 1234567 is "1,234,567",
// -1000 is "-1,000".
func Int(n int64) string { return printer.Sprintf("%d", n) }

// Round formats x rounded to the nearest integer (halves away from zero)
// with thousands separators; a value that rounds to zero is "0", never
// "-0". NaN and infinities are written as strconv writes them ("NaN",
// "+Inf", "-Inf"); callers that want a word for them check first.
func Round(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	r := math.Round(x)
	if r == 0 {
		return "0"
	}
	if math.Abs(r) < 1<<62 {
		return Int(int64(r))
	}
	return printer.Sprintf("%.0f", r) // an integer beyond int64: every digit, exactly
}
