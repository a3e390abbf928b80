package web

import (
	"html"
	"html/template"
	"regexp"
	"strings"
)

// markdown renders the small subset of Markdown our documents use: "#" headings,
// paragraphs separated by blank lines, "-"/"*" and "1." lists, and **bold**. Every
// character of the source is escaped first, so no HTML in a document reaches the
// page. A leading line equal to skip (the title, shown by the page) is left out.
func markdown(src, skip string) template.HTML {
	var b strings.Builder
	var para []string
	list := "" // "ul" or "ol" while inside a list
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + strings.Join(para, " ") + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	first := true
	for _, raw := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" {
			flushPara()
			closeList()
			continue
		}
		if first {
			first = false
			if plain := strings.TrimSpace(strings.Trim(strings.TrimLeft(line, "#"), "* ")); plain == skip {
				continue
			}
		}
		if level := headingLevel(line); level > 0 {
			flushPara()
			closeList()
			tag := "h" + string(rune('1'+level)) // "#" is h2 under the page's h1
			b.WriteString("<" + tag + ">" + inline(strings.TrimSpace(line[level:])) + "</" + tag + ">\n")
			continue
		}
		if item, kind := listItem(line); kind != "" {
			flushPara()
			if list != kind {
				closeList()
				b.WriteString("<" + kind + ">\n")
				list = kind
			}
			b.WriteString("<li>" + inline(item) + "</li>\n")
			continue
		}
		closeList()
		para = append(para, inline(line))
	}
	flushPara()
	closeList()
	return template.HTML(b.String()) //nolint:gosec // every piece went through html.EscapeString
}

// headingLevel is n for a line "#… text" with n ≤ 3 hashes, else 0.
func headingLevel(line string) int {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 3 || n >= len(line) || line[n] != ' ' {
		return 0
	}
	return n
}

var orderedItem = regexp.MustCompile(`^\d{1,3}[.)]\s+`)

// listItem splits a list line into its text and "ul" or "ol"; other lines give "".
func listItem(line string) (string, string) {
	if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") {
		return strings.TrimSpace(line[2:]), "ul"
	}
	if loc := orderedItem.FindStringIndex(line); loc != nil {
		return line[loc[1]:], "ol"
	}
	return "", ""
}

var bold = regexp.MustCompile(`\*\*([^*]+)\*\*`)

// inline escapes a line and turns **text** into <strong>text</strong>.
func inline(s string) string {
	return bold.ReplaceAllString(html.EscapeString(s), "<strong>$1</strong>")
}
