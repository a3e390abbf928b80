package partner

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"ikra/app/analytics"
	"ikra/app/web/ui"
)

// Chart geometry, in viewBox units: the SVG scales to its container's width, so it
// stays readable 360 px wide.
const (
	chartW, chartH         = 360.0, 180.0
	chartLeft, chartRight  = 34.0, 8.0
	chartTop, chartBottom  = 10.0, 24.0
	chartPlotW, chartPlotH = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
)

// chartSeries are the lines drawn, with their colour and legend key.
var chartSeries = []struct {
	color, key string
	value      func(analytics.Day) int
}{
	{"#2563eb", "analytics.views", func(d analytics.Day) int { return d.Views }},
	{"#d97706", "analytics.requests", func(d analytics.Day) int { return d.Requests }},
	{"#16a34a", "analytics.completions", func(d analytics.Day) int { return d.Completions }},
}

// chartSVG draws views, requests and completions per day as inline SVG lines (no
// script): a y axis from 0 to the highest count, the first and last day under it.
func chartSVG(days []analytics.Day, l ui.Locale) template.HTML {
	if len(days) == 0 {
		return ""
	}
	top := 0
	for _, d := range days {
		for _, s := range chartSeries {
			top = max(top, s.value(d))
		}
	}
	top = max(top, 1)
	x := func(i int) float64 {
		if len(days) == 1 {
			return chartLeft + chartPlotW/2
		}
		return chartLeft + chartPlotW*float64(i)/float64(len(days)-1)
	}
	y := func(v int) float64 { return chartTop + chartPlotH*(1-float64(v)/float64(top)) }
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-labelledby="chart-title" width="100%%" font-size="10" fill="currentColor">`, chartW, chartH)
	fmt.Fprintf(&b, `<title id="chart-title">%s</title>`, esc(l.T("analytics.chart")))
	// Grid: the zero line, the middle and the top, labelled.
	for _, v := range []int{0, top / 2, top} {
		if v == top/2 && (top < 2) {
			continue
		}
		fmt.Fprintf(&b, `<line stroke="currentColor" stroke-opacity=".15" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, chartLeft, y(v), chartW-chartRight, y(v))
		fmt.Fprintf(&b, `<text fill-opacity=".7" x="%g" y="%.1f" text-anchor="end">%d</text>`, chartLeft-4, y(v)+4, v)
	}
	first, last := days[0].Date.Format("02.01"), days[len(days)-1].Date.Format("02.01")
	fmt.Fprintf(&b, `<text fill-opacity=".7" x="%g" y="%g">%s</text>`, chartLeft, chartH-6, first)
	fmt.Fprintf(&b, `<text fill-opacity=".7" x="%g" y="%g" text-anchor="end">%s</text>`, chartW-chartRight, chartH-6, last)
	for _, s := range chartSeries {
		pts := make([]string, len(days))
		for i, d := range days {
			pts[i] = strconv.FormatFloat(x(i), 'f', 1, 64) + "," + strconv.FormatFloat(y(s.value(d)), 'f', 1, 64)
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round" points="%s"><title>%s</title></polyline>`, s.color, strings.Join(pts, " "), esc(l.T(s.key)))
		if len(days) <= 31 {
			for i, d := range days {
				fmt.Fprintf(&b, `<circle fill="%s" cx="%.1f" cy="%.1f" r="2"/>`, s.color, x(i), y(s.value(d)))
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and escaped translations only
}

// chartKey is one line of the chart's legend.
type chartKey struct{ Color, Key string }

// chartLegend is the chart's legend, in the order the lines are drawn.
func chartLegend() []chartKey {
	out := make([]chartKey, len(chartSeries))
	for i, s := range chartSeries {
		out[i] = chartKey{Color: s.color, Key: s.key}
	}
	return out
}
