package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/batonhq/baton"
)

// palette colours the series of a chart (colour-blind safe, Okabe-Ito).
var palette = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"}

// barChart draws a report as a horizontal bar chart in SVG: one group of
// bars per label, one bar per series, on one scale. series picks the series
// to draw by index (all when it is empty); charting series of different
// units together would mislead, so callers pick ones that share a unit.
// The numbers are written beside the bars, and the chart has a title and a
// description for screen readers; the report's table goes with it on the page.
func barChart(r *baton.Report, series []int) template.HTML {
	if r == nil || len(r.Labels) == 0 || len(r.Series) == 0 {
		return template.HTML(`<p class="muted">No data for this period.</p>`)
	}
	if len(series) == 0 {
		for i := range r.Series {
			series = append(series, i)
		}
	}
	var picked []baton.Series
	for _, i := range series {
		if i >= 0 && i < len(r.Series) {
			picked = append(picked, r.Series[i])
		}
	}
	max := 0.0
	for _, s := range picked {
		for _, v := range s.Values {
			if !math.IsNaN(v) && v > max {
				max = v
			}
		}
	}
	if max == 0 {
		max = 1
	}
	const (
		labelW = 190
		barW   = 420
		barH   = 16
		gap    = 10
		legend = 22
		width  = labelW + barW + 70
	)
	groupH := len(picked)*barH + gap
	height := legend + len(r.Labels)*groupH + 4
	esc := template.HTMLEscapeString
	var b strings.Builder
	id := "chart-" + esc(r.Name)
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t" xmlns="http://www.w3.org/2000/svg">`, width, height, id)
	names := make([]string, len(picked))
	for i, s := range picked {
		names[i] = s.Name
	}
	fmt.Fprintf(&b, `<title id="%s-t">%s: %s by %d categories</title>`, id, esc(r.Title), esc(strings.Join(names, ", ")), len(r.Labels))
	// Legend.
	x := labelW
	for i, s := range picked {
		fmt.Fprintf(&b, `<rect x="%d" y="4" width="12" height="12" fill="%s"/><text x="%d" y="14" class="legend">%s</text>`,
			x, palette[i%len(palette)], x+16, esc(s.Name))
		x += 24 + 7*len(s.Name)
	}
	for li, l := range r.Labels {
		y := legend + li*groupH
		short := l
		if len([]rune(short)) > 28 {
			short = string([]rune(short)[:27]) + "…"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="lbl"><title>%s</title>%s</text>`,
			labelW-8, y+len(picked)*barH/2+5, esc(l), esc(short))
		for si, s := range picked {
			v := 0.0
			if li < len(s.Values) && !math.IsNaN(s.Values[li]) {
				v = s.Values[li]
			}
			w := int(math.Round(v / max * barW))
			if v > 0 && w < 1 {
				w = 1
			}
			by := y + si*barH
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s, %s: %s</title></rect>`,
				labelW, by+1, w, barH-2, palette[si%len(palette)], esc(l), esc(s.Name), num(v))
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="val">%s</text>`, labelW+w+4, by+barH-4, num(v))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
