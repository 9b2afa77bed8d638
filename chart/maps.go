package chart

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"net/netip"
	"runtime"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"wormwatch/internal/thousands"
	"wormwatch/ipv4"
	"wormwatch/results"
)

// Map geometry: one cell per /16 on a 256 x 256 Hilbert curve of order 8
// (each /8 is a 16 x 16 square), drawn mapPx pixels per cell in the PNG.
const (
	mapOrder  = 8
	mapCells  = 1 << mapOrder // cells per side
	mapPx     = 4             // raster pixels per cell
	mapSide   = 512           // points: 1024 pixels at pngDPI 144, so one cell is 4 pixels exactly
	mapMargin = 12            // points
	mapGap    = 24
	mapRight  = 190 // width of the colour bar and legend column
	mapTitleH = 44
)

// Colours of the map: white where no host is infected, grey where the
// whole /16 is special-purpose space (private, multicast, reserved), and a
// light-orange-to-dark-red ramp (ColorBrewer YlOrRd) for 1 to the most
// infected.
var (
	colNone     = color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF}
	colReserved = color.NRGBA{R: 0xC8, G: 0xC8, B: 0xC8, A: 0xFF}
	colGrid     = color.NRGBA{R: 0x00, G: 0x00, B: 0x00, A: 0x22}
	colGridText = color.NRGBA{R: 0x00, G: 0x00, B: 0x00, A: 0x60}
)

// mapColors returns the colour ramp, light (few hosts) to dark (many).
func mapColors() (palette.ColorMap, error) {
	// YlOrRd from dark to light, as NewLuminance wants rising luminance.
	// The lightest two of YlOrRd's nine are left out: a /16 with one
	// infected host must stand out from the white of none.
	hex := []uint32{0x800026, 0xbd0026, 0xe31a1c, 0xfc4e2a, 0xfd8d3c, 0xfeb24c}
	controls := make([]color.Color, len(hex))
	for i, h := range hex {
		controls[i] = color.NRGBA{R: uint8(h >> 16), G: uint8(h >> 8), B: uint8(h), A: 0xFF}
	}
	cm, err := moreland.NewLuminance(controls)
	if err != nil {
		return nil, fmt.Errorf("chart: map colours: %w", err)
	}
	return palette.Reverse(cm), nil
}

var reservedOnce = sync.OnceValues(func() ([]bool, error) {
	s := ipv4.Space{Bits: 32}
	rs, err := s.ParseRanges(ipv4.SpecialPurpose)
	if err != nil {
		return nil, fmt.Errorf("chart: special-purpose ranges: %w", err)
	}
	out := make([]bool, mapCells*mapCells)
	for i := range out {
		lo := uint64(i) << 16
		out[i] = rs.Overlap(ipv4.Range{Lo: lo, Hi: lo + 1<<16}) == 1<<16
	}
	return out, nil
})

// mapScale is the shared colour scale of the maps: log10 of counts, from
// 0 (one host) to the largest count in any snapshot.
type mapScale struct {
	cm  palette.ColorMap
	max float64 // log10 of the largest count, at least 1
}

func newMapScale(snaps []results.Snapshot) (mapScale, error) {
	cm, err := mapColors()
	if err != nil {
		return mapScale{}, err
	}
	var top uint32
	for _, s := range snaps {
		for _, v := range s.Infected {
			top = max(top, v)
		}
	}
	m := math.Max(1, math.Log10(float64(max(top, 1))))
	cm.SetMin(0)
	cm.SetMax(m)
	return mapScale{cm: cm, max: m}, nil
}

// color returns the colour of a /16 with n infected hosts.
func (ms mapScale) color(n uint32, reserved bool) color.Color {
	if n == 0 {
		if reserved {
			return colReserved
		}
		return colNone
	}
	c, err := ms.cm.At(clamp01(math.Log10(float64(n))/ms.max) * ms.max)
	if err != nil {
		return colMark
	}
	return c
}

// mapImage lays a snapshot out on the Hilbert curve: cell (x, y) of
// ipv4.HilbertD2XY(8, i) shows /16 number i, with x to the right and y
// downwards (0/8 in the top-left corner, 255/8 in the top-right), scale
// pixels per cell.
func mapImage(s results.Snapshot, ms mapScale, reserved []bool, scale int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, mapCells*scale, mapCells*scale))
	for i, n := range s.Infected {
		x, y := ipv4.HilbertD2XY(mapOrder, uint64(i))
		c := color.NRGBAModel.Convert(ms.color(n, reserved[i])).(color.NRGBA)
		for dy := range scale {
			row := img.Pix[(int(y)*scale+dy)*img.Stride:]
			for dx := range scale {
				o := (int(x)*scale + dx) * 4
				row[o], row[o+1], row[o+2], row[o+3] = c.R, c.G, c.B, c.A
			}
		}
	}
	return img
}

// Maps draws an IPv4 map of infected hosts per /16 for each snapshot of
// the Replay, all on one colour scale (log10, one host to the most in any
// snapshot), with the telescopes' prefixes outlined. Their Names are
// MapPrefix followed by the snapshot's month, day and time (map-0719-1600).
func Maps(r *results.Replay) ([]Figure, error) {
	if r == nil {
		return nil, fmt.Errorf("chart: no replay result")
	}
	for i, s := range r.Maps {
		if len(s.Infected) != mapCells*mapCells {
			return nil, fmt.Errorf("chart: map snapshot %d (%q) has %d /16 counts (want %d)", i, s.Label, len(s.Infected), mapCells*mapCells)
		}
	}
	if len(r.Maps) == 0 {
		return nil, nil
	}
	reserved, err := reservedOnce()
	if err != nil {
		return nil, err
	}
	ms, err := newMapScale(r.Maps)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	names := make([]string, len(r.Maps))
	for i, s := range r.Maps {
		name := MapPrefix + s.Time.UTC().Format("0102-1504")
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s-%d", name, seen[name])
		}
		names[i] = name
	}
	// The maps are independent: render them on every core.
	figs := make([]Figure, len(r.Maps))
	errs := make([]error, len(r.Maps))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				figs[i], errs[i] = mapFigure(r, r.Maps[i], names[i], ms, reserved)
			}
		}()
	}
	for i := range r.Maps {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return figs, nil
}

func mapFigure(r *results.Replay, s results.Snapshot, name string, ms mapScale, reserved []bool) (Figure, error) {
	img := mapImage(s, ms, reserved, mapPx)
	var total uint64
	for _, n := range s.Infected {
		total += uint64(n)
	}
	when := s.Time.UTC().Format("2 January 2006 15:04") + " UTC"
	title := "Infected hosts per /16, " + when
	if s.Label != "" {
		title = s.Label + ": infected hosts per /16, " + when
	}
	outlines := sensorCells(r)
	w := vg.Points(mapMargin + mapSide + mapGap + mapRight + mapMargin)
	h := vg.Points(mapMargin + mapSide + mapTitleH)
	drawFn := func(c draw.Canvas) {
		left, bottom := c.Min.X+vg.Points(mapMargin), c.Min.Y+vg.Points(mapMargin)
		side := vg.Points(mapSide)
		cell := side / mapCells
		// Title.
		sty := text.Style{Color: color.Black, Font: font.From(sans, 14), XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
		c.FillText(sty, vg.Point{X: left, Y: c.Max.Y - vg.Points(mapTitleH)/2}, title)
		// The map, a frame, the /8 grid and the /8 numbers.
		c.DrawImage(vg.Rectangle{Min: vg.Point{X: left, Y: bottom}, Max: vg.Point{X: left + side, Y: bottom + side}}, img)
		grid := draw.LineStyle{Color: colGrid, Width: vg.Points(0.5)}
		for k := 0; k <= 16; k++ {
			d := vg.Length(k) * side / 16
			c.StrokeLine2(grid, left+d, bottom, left+d, bottom+side)
			c.StrokeLine2(grid, left, bottom+d, left+side, bottom+d)
		}
		small := text.Style{Color: colGridText, Font: font.From(sans, 5.5), XAlign: draw.XLeft, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
		for n := range 256 {
			x, y := ipv4.HilbertD2XY(4, uint64(n))
			c.FillText(small, vg.Point{X: left + vg.Length(x)*side/16 + vg.Points(1.5), Y: bottom + side - vg.Length(y)*side/16 - vg.Points(1.5)}, fmt.Sprint(n))
		}
		for _, o := range outlines {
			ls := draw.LineStyle{Color: colTelescope, Width: vg.Points(1.5)}
			x0, x1 := left+vg.Length(o.x0)*cell, left+vg.Length(o.x1+1)*cell
			y0, y1 := bottom+side-vg.Length(o.y1+1)*cell, bottom+side-vg.Length(o.y0)*cell
			c.StrokeLines(ls, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
		}
		// Colour bar.
		colX := left + side + vg.Points(mapGap)
		barTop := bottom + side
		barBottom := bottom + side*0.42
		cb := plot.New()
		cb.HideX()
		cb.Y.Tick.Marker = logTicks{}
		cb.Y.Label.Text = "infected hosts per /16 (log scale)"
		cb.Y.Label.TextStyle.Font = font.From(sans, 10)
		cb.Y.Tick.Label.Font = font.From(sans, 9)
		cb.Y.Padding = 0
		cb.X.Padding = 0
		cb.Add(&plotter.ColorBar{ColorMap: ms.cm, Vertical: true, Colors: 200})
		cbc := c
		cbc.Min = vg.Point{X: colX, Y: barBottom}
		cbc.Max = vg.Point{X: colX + vg.Points(70), Y: barTop}
		cb.Draw(cbc)
		// Legend.
		lsty := text.Style{Color: color.Black, Font: font.From(sans, 9), XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
		y := barBottom - vg.Points(24)
		swatch := func(fill color.Color, stroke color.Color, label string) {
			sq := []vg.Point{{X: colX, Y: y - 5}, {X: colX + 10, Y: y - 5}, {X: colX + 10, Y: y + 5}, {X: colX, Y: y + 5}}
			if fill != nil {
				c.FillPolygon(fill, sq)
			}
			c.StrokeLines(draw.LineStyle{Color: stroke, Width: vg.Points(1)}, append(sq, sq[0]))
			c.FillText(lsty, vg.Point{X: colX + 16, Y: y}, label)
			y -= vg.Points(18)
		}
		swatch(colNone, colGrey, "no infected host")
		swatch(colReserved, colReserved, "special-purpose space")
		for _, o := range outlines {
			swatch(nil, colTelescope, o.label)
		}
		y -= vg.Points(6)
		c.FillText(lsty, vg.Point{X: colX, Y: y}, "total infected: "+thousands.Round(float64(total)))
		y -= vg.Points(16)
		c.FillText(lsty, vg.Point{X: colX, Y: y}, "one /8 per square,")
		y -= vg.Points(13)
		c.FillText(lsty, vg.Point{X: colX, Y: y}, "numbered at its top left")
	}
	png, svg, err := renderWith(drawFn, w, h)
	if err != nil {
		return Figure{}, fmt.Errorf("chart: map %s: %w", name, err)
	}
	caption := fmt.Sprintf("Infected hosts in each /16 of IPv4 at %s, in one run (seed %s), laid out on a Hilbert curve as in the xkcd and CAIDA maps: "+
		"each /16 is one cell, each /8 a square of 16 x 16 cells numbered at its top-left corner, 0/8 at the top left and 255/8 at the top right; "+
		"nearby addresses are nearby cells. Colour: number of infected hosts on a log scale shared by all maps; white: none; grey: special-purpose space (private, multicast, reserved).",
		when, firstSeed(r))
	if len(outlines) > 0 {
		caption += " The blue outline is the network telescope's address block."
	}
	return Figure{Name: name, Title: title, Caption: caption, PNG: png, SVG: svg}, nil
}

func firstSeed(r *results.Replay) string {
	if len(r.Seeds) == 0 {
		return "unknown"
	}
	return fmt.Sprint(r.Seeds[0])
}

// outline is the block of cells a sensor's prefix covers.
type outline struct {
	x0, y0, x1, y1 uint32
	label          string
}

// sensorCells returns the cells of each sensor whose prefix is an IPv4
// prefix of length 16 or less (a longer one is inside one cell, which an
// outline would hide).
func sensorCells(r *results.Replay) []outline {
	var out []outline
	for _, sn := range r.Sensors {
		p, err := netip.ParsePrefix(sn.Prefix)
		if err != nil || !p.Addr().Is4() || p.Bits() > 16 {
			continue
		}
		b := p.Masked().Addr().As4()
		first := uint64(b[0])<<8 | uint64(b[1])
		n := uint64(1) << (16 - p.Bits())
		o := outline{x0: math.MaxUint32, y0: math.MaxUint32, label: sensorLabel(sn)}
		for d := first; d < first+n; d++ {
			x, y := ipv4.HilbertD2XY(mapOrder, d)
			o.x0, o.y0 = min(o.x0, x), min(o.y0, y)
			o.x1, o.y1 = max(o.x1, x), max(o.y1, y)
		}
		out = append(out, o)
	}
	return out
}
