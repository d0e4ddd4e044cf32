package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/batonhq/baton"
)

// palette colours the series of a chart (colour-blind safe, Okabe-Ito); the
// stylesheet may recolour them for the dark theme (class s0, s1, ...).
var palette = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999"}

// The charts are drawn in SVG without a viewBox: lengths across are
// percentages of the chart's width and lengths down are pixels, so that a
// chart takes the width it is given, from a phone's to a wide screen's,
// and its text stays the size the stylesheet sets instead of shrinking with
// the drawing. Each bar has its label on the line above it and its number
// after it; the longest bar takes barSpan of the width, leaving the rest for
// its number.
const (
	barSpan  = 78.0 // percent
	lineH    = 18   // a label's line
	barH     = 16
	barGap   = 2
	groupGap = 10
	legendH  = 22
)

// chartID makes an element id for a chart from its report's name and
// title, so that two charts of one report on a page differ.
func chartID(r *baton.Report) string {
	var b strings.Builder
	b.WriteString("chart-")
	for _, c := range strings.ToLower(r.Name + "-" + r.Title) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ', c == '-', c == '_':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// pctX writes a percentage of the chart's width.
func pctX(v float64) string { return fmt.Sprintf("%.2f%%", v) }

// short cuts a label to n characters, with an ellipsis.
func short(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// barChart draws a report as a horizontal bar chart in SVG: one group of
// bars per label, one bar per series, on one scale. series picks the series
// to draw by index (all when it is empty); charting series of different
// units together would mislead, so callers pick ones that share a unit.
// The numbers are written beside the bars, and the chart has a title for
// screen readers; the report's table goes with it on the page.
func barChart(r *baton.Report, series []int) template.HTML {
	return bars(r, series, nil)
}

// bars is barChart with a link for each label (href returns "" for none):
// the label, its bars and numbers are the link, named by that text. A
// chart with links is a group of links, not an image, so that each can be
// reached and followed.
func bars(r *baton.Report, series []int, href func(i int) string) template.HTML {
	if r == nil || len(r.Labels) == 0 || len(r.Series) == 0 {
		return template.HTML(`<p class="muted">No data for this period.</p>`)
	}
	if len(series) == 0 {
		for i := range r.Series {
			series = append(series, i)
		}
	}
	var picked []baton.Series
	var colour []int
	for _, i := range series {
		if i >= 0 && i < len(r.Series) {
			picked = append(picked, r.Series[i])
			colour = append(colour, len(colour))
		}
	}
	if len(picked) == 0 {
		return template.HTML(`<p class="muted">No data for this period.</p>`)
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
	top := 0
	if len(picked) > 1 {
		top = legendH
	}
	groupH := lineH + len(picked)*(barH+barGap) + groupGap
	height := top + len(r.Labels)*groupH
	esc := template.HTMLEscapeString
	id := chartID(r)
	names := make([]string, len(picked))
	for i, s := range picked {
		names[i] = s.Name
	}
	var b strings.Builder
	role := "img"
	if href != nil {
		role = "group"
	}
	fmt.Fprintf(&b, `<svg class="chart" width="100%%" height="%d" role="%s" aria-labelledby="%s-t" xmlns="http://www.w3.org/2000/svg">`, height, role, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s: %s, by %d categories</title>`, id, esc(r.Title), esc(strings.Join(names, ", ")), len(r.Labels))
	if top > 0 {
		// The legend: a swatch and a name per series, across.
		for i, s := range picked {
			x := 100 * float64(i) / float64(len(picked))
			fmt.Fprintf(&b, `<rect x="%s" y="4" width="12" height="12" class="s%d" fill="%s"/><text x="%s" dx="16" y="14" class="legend">%s</text>`,
				pctX(x), colour[i], palette[colour[i]%len(palette)], pctX(x), esc(short(s.Name, 24)))
		}
	}
	for li, l := range r.Labels {
		y := top + li*groupH
		link := ""
		if href != nil {
			link = href(li)
		}
		if link != "" {
			fmt.Fprintf(&b, `<a href="%s">`, esc(link))
		}
		fmt.Fprintf(&b, `<text x="0" y="%d" class="lbl">%s</text>`, y+lineH-5, esc(short(l, 44)))
		for si, s := range picked {
			v := value(s, li)
			w := v / max * barSpan
			if v > 0 && w < 0.5 {
				w = 0.5
			}
			by := y + lineH + si*(barH+barGap)
			fmt.Fprintf(&b, `<rect x="0" y="%d" width="%s" height="%d" class="bar s%d" fill="%s">`, by, pctX(w), barH, colour[si], palette[colour[si]%len(palette)])
			if link == "" {
				// A tooltip; a link is named by its text alone.
				fmt.Fprintf(&b, `<title>%s, %s: %s</title>`, esc(l), esc(s.Name), num(v))
			}
			b.WriteString(`</rect>`)
			fmt.Fprintf(&b, `<text x="%s" dx="5" y="%d" class="val">%s</text>`, pctX(w), by+barH-4, num(v))
		}
		if link != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// value is a series' value at a label, 0 where it has none.
func value(s baton.Series, i int) float64 {
	if i < len(s.Values) && !math.IsNaN(s.Values[i]) {
		return s.Values[i]
	}
	return 0
}

// funnelStep is a step of a funnel chart: its label, its count, the rate
// from the step before ("" for the first) and the link to its leads.
type funnelStep struct {
	Label string
	Count float64
	Prev  string // the step before's label
	Rate  string // "64%"; "" for the first step or when the one before is 0
	Href  string
}

// funnelChart draws the funnel's steps as bars, one under the other, each
// with its count and, on its label's line between it and the bar above, its
// conversion from the step before ("SAL 64% of MQL"). Each step is a link
// to the leads behind it, named by its text ("SAL 64% of MQL 40").
func funnelChart(id, title string, steps []funnelStep) template.HTML {
	if len(steps) == 0 {
		return template.HTML(`<p class="muted">No data for this period.</p>`)
	}
	max := 0.0
	for _, s := range steps {
		max = math.Max(max, s.Count)
	}
	if max == 0 {
		max = 1
	}
	const stepH = lineH + barH + groupGap + 2
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" data-chart="funnel" width="100%%" height="%d" role="group" aria-labelledby="%s-t" xmlns="http://www.w3.org/2000/svg">`, len(steps)*stepH, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title>`, id, esc(title))
	for i, s := range steps {
		y := i * stepH
		rate := ""
		if s.Rate != "" {
			rate = s.Rate + " of " + s.Prev
		}
		if s.Href != "" {
			fmt.Fprintf(&b, `<a href="%s">`, esc(s.Href))
		}
		fmt.Fprintf(&b, `<text x="0" y="%d" class="lbl"><tspan class="step">%s</tspan>`, y+lineH-4, esc(s.Label))
		if rate != "" {
			fmt.Fprintf(&b, ` <tspan class="rate" dx="4">%s</tspan>`, esc(rate))
		}
		b.WriteString(`</text>`)
		w := s.Count / max * barSpan
		if s.Count > 0 && w < 0.5 {
			w = 0.5
		}
		by := y + lineH
		fmt.Fprintf(&b, `<rect x="0" y="%d" width="%s" height="%d" rx="2" class="bar s0" fill="%s"/>`, by, pctX(w), barH+2, palette[0])
		fmt.Fprintf(&b, `<text x="%s" dx="5" y="%d" class="val">%s</text>`, pctX(w), by+barH-2, num(s.Count))
		if s.Href != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
