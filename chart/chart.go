// Package chart draws the figures of a replay report from a results.Replay:
// the infected hosts over the summer, the outbreak of 19 July, the restart
// of 1 August, the scan and flood traffic, what the network telescope saw,
// and IPv4 Hilbert maps of the infected hosts. Each figure is rendered as
// PNG and SVG with gonum.org/v1/plot; a band over seeds is drawn as its
// median line and a shaded 5-95% area, and published measurements are
// marked and labelled beside the series they belong to.
//
// Series of about 72,000 one-minute bins are aggregated before they are
// drawn (hourly over the whole summer, per minute or per ten minutes over
// a day), so that a figure stays a few hundred kilobytes.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"

	"git.sr.ht/~sbinet/gg"
	xdraw "golang.org/x/image/draw"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"wormwatch/results"
)

// Figure is one rendered figure: a short file-safe Name ("infected",
// "map-0719-1600"), a Title, a Caption saying what is drawn, and the same
// figure as PNG and as SVG.
type Figure struct {
	Name, Title, Caption string
	PNG, SVG             []byte
}

// MapPrefix starts the Name of every IPv4 map figure.
const MapPrefix = "map-"

// ErrNoData is wrapped by the error of a figure whose time window or
// sensor the Replay does not have (a replay of another period, a scenario
// without a telescope). All leaves such figures out.
var ErrNoData = errors.New("no data for this figure")

// All returns every figure of the report, in the order the report shows
// them: Infected, July19, Restart, Traffic, Telescope, then the maps.
// Figures whose window or sensor the Replay lacks (ErrNoData) are left
// out; any other error stops it.
func All(r *results.Replay) ([]Figure, error) {
	if err := checkResult(r); err != nil {
		return nil, err
	}
	var figs []Figure
	for _, f := range []func(*results.Replay) (Figure, error){Infected, July19, Restart, Traffic, Telescope} {
		fig, err := f(r)
		if errors.Is(err, ErrNoData) {
			continue
		}
		if err != nil {
			return nil, err
		}
		figs = append(figs, fig)
	}
	maps, err := Maps(r)
	if err != nil {
		return nil, err
	}
	return append(figs, maps...), nil
}

// Sizes and resolution of the figures.
const (
	figWidth  = 9 * vg.Inch
	panelH    = 3.6 * vg.Inch
	titleH    = 0.45 * vg.Inch
	pngDPI    = 144
	bandAlpha = 0x55
)

// Colours (Okabe-Ito, readable by colour-blind readers).
var (
	colInfected  = color.NRGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF} // vermillion
	colTelescope = color.NRGBA{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF} // blue
	colSuscept   = color.NRGBA{R: 0x56, G: 0xB4, B: 0xE9, A: 0xFF} // sky blue
	colPatched   = color.NRGBA{R: 0x00, G: 0x9E, B: 0x73, A: 0xFF} // bluish green
	colEver      = color.NRGBA{R: 0xCC, G: 0x79, B: 0xA7, A: 0xFF} // reddish purple
	colFlood     = color.NRGBA{R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF} // orange
	colGrey      = color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xFF}
	colMark      = color.Black
)

// sans is the typeface of every text in the figures; its metrics are
// those of Arial, which the SVG names as a fallback.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot with the report's fonts, a time X axis and a
// compact-number Y axis.
func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 12)
	p.Title.Padding = 0.08 * vg.Inch
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 10)
		a.Tick.Label.Font = font.From(sans, 9)
	}
	p.Legend.TextStyle.Font = font.From(sans, 9)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = 0.1 * vg.Inch
	p.Legend.YOffs = -0.05 * vg.Inch
	p.Legend.Padding = 0.02 * vg.Inch
	p.Legend.ThumbnailWidth = 0.3 * vg.Inch
	p.X.Label.Text = "time (UTC)"
	p.X.Tick.Marker = timeTicks{}
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = numberTicks{}
	p.Y.Min = 0
	return p
}

// render draws panels stacked top to bottom (their X axes aligned) under
// a figure title, and returns the figure as PNG and SVG.
func render(title string, panels []*plot.Plot, w, h vg.Length) (pngBytes, svgBytes []byte, err error) {
	draw1 := func(c draw.Canvas) {
		top := c.Max.Y
		tc := c
		tc.Min.Y = top - titleH
		sty := plot.New().Title.TextStyle
		sty.Font = font.From(sans, 14)
		sty.XAlign = draw.XCenter
		sty.YAlign = draw.YCenter
		tc.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: top - titleH/2}, title)
		body := draw.Crop(c, 0, 0, 0, -titleH)
		rows := make([][]*plot.Plot, len(panels))
		for i, p := range panels {
			rows[i] = []*plot.Plot{p}
		}
		tiles := draw.Tiles{
			Rows: len(panels), Cols: 1,
			PadY:   0.15 * vg.Inch,
			PadTop: 0.02 * vg.Inch, PadBottom: 0.08 * vg.Inch,
			PadLeft: 0.1 * vg.Inch, PadRight: 0.25 * vg.Inch,
		}
		canvases := plot.Align(rows, tiles, body)
		for i, p := range panels {
			p.Draw(canvases[i][0])
		}
	}
	return renderWith(draw1, w, h)
}

// renderWith runs a drawing function on a PNG and an SVG canvas.
func renderWith(drawFn func(draw.Canvas), w, h vg.Length) (pngBytes, svgBytes []byte, err error) {
	defer func() {
		// gonum/plot reports some drawing problems by panicking.
		if v := recover(); v != nil {
			err = fmt.Errorf("chart: drawing failed: %v", v)
		}
	}()
	white := func(c draw.Canvas) {
		c.FillPolygon(color.White, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
		drawFn(c)
	}
	img := pngCanvas(w, h)
	white(draw.New(img))
	// Fast deflate: a replay renders dozens of large images, and the default
	// compression took most of its reporting time for a few percent of size.
	var pb bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&pb, img.Image()); err != nil {
		return nil, nil, fmt.Errorf("chart: encoding PNG: %w", err)
	}
	sc := vgsvg.New(w, h)
	white(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, fmt.Errorf("chart: encoding SVG: %w", err)
	}
	return pb.Bytes(), fixSVG(sb.Bytes()), nil
}

// pngCanvas is vgimg's canvas with nearest-neighbour image scaling (the
// default, bilinear, blurs the cells of the IPv4 maps); the rest is what
// vgimg.NewWith sets up.
func pngCanvas(w, h vg.Length) *vgimg.Canvas {
	px := func(l vg.Length) int { return int(math.Ceil(float64(l/vg.Inch)*pngDPI - 1e-9)) }
	rgba := image.NewRGBA(image.Rect(0, 0, px(w), px(h)))
	ctx := gg.NewContextForRGBA(rgba)
	ctx.SetInterpolator(xdraw.NearestNeighbor)
	ctx.SetLineCapButt()
	ctx.InvertY()
	return vgimg.NewWith(vgimg.UseImageWithContext(rgba, ctx), vgimg.UseDPI(pngDPI))
}

// fixSVG names fallback fonts after Liberation Sans (Arial and Helvetica
// share its metrics), so a reader without the Liberation fonts sees text of
// the width the layout was computed for.
func fixSVG(b []byte) []byte {
	s := string(b)
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")
	return []byte(s)
}
