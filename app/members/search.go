package members

import (
	"context"
	"strconv"
	"strings"
	"unicode"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/predicate"
)

// Search finds members for the back office, newest first, at most limit: by Telegram ID
// when q is a number, otherwise by a part of the first name, last name or username
// ("@name" too) in any letter case, Cyrillic included.
func (s *Service) Search(ctx context.Context, q string, limit int) ([]*ent.Member, error) {
	query := s.db.Member.Query()
	if q = strings.TrimSpace(q); q != "" {
		if n, err := strconv.ParseInt(q, 10, 64); err == nil {
			query.Where(member.TelegramID(n))
		} else {
			q = strings.TrimPrefix(q, "@")
			query.Where(member.Or(containsAnyCase(member.FieldFirstName, q), containsAnyCase(member.FieldLastName, q),
				containsAnyCase(member.FieldUsername, q)))
		}
	}
	return query.Order(ent.Desc(member.FieldID)).Limit(limit).All(ctx)
}

// containsAnyCase matches a column that contains sub with each letter in any case. SQL's
// own case folding cannot be trusted for this: SQLite's LIKE and LOWER fold only ASCII,
// and PostgreSQL's ILIKE follows the database's locale. So every letter becomes the set
// of its case forms ("Ай" → "[аА][йЙ]"): a GLOB pattern on SQLite, a regular expression
// on PostgreSQL, both exact whatever the locale.
func containsAnyCase(field, sub string) predicate.Member {
	return predicate.Member(func(sel *sql.Selector) {
		pg := sel.Dialect() == dialect.Postgres
		var p strings.Builder
		if !pg {
			p.WriteByte('*')
		}
		for _, r := range sub {
			if forms := caseForms(r); len(forms) > 1 {
				p.WriteByte('[')
				p.WriteString(string(forms))
				p.WriteByte(']')
				continue
			}
			switch {
			case pg && r < 0x80 && !unicode.IsLetter(r) && !unicode.IsDigit(r):
				p.WriteByte('\\') // a backslash before punctuation makes it literal
				p.WriteRune(r)
			case !pg && (r == '*' || r == '?' || r == '['):
				p.WriteString("[" + string(r) + "]")
			default:
				p.WriteRune(r)
			}
		}
		op := " ~ "
		if !pg {
			p.WriteByte('*')
			op = " GLOB "
		}
		col := sel.C(field)
		sel.Where(sql.P(func(b *sql.Builder) { b.Ident(col).WriteString(op).Arg(p.String()) }))
	})
}

// caseForms is r with every rune that folds to it (its case orbit), r first.
func caseForms(r rune) []rune {
	forms := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		forms = append(forms, f)
	}
	return forms
}
