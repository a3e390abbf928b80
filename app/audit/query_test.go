package audit_test

import (
	"reflect"
	"testing"

	"ikra/app/audit"
)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after map[string]any
		want          []audit.Change
	}{
		{"nothing", nil, nil, nil},
		{"unchanged fields left out", map[string]any{"status": "active", "n": 1.0}, map[string]any{"status": "blocked", "n": 1.0},
			[]audit.Change{{Field: "status", Old: "active", New: "blocked"}}},
		{"a field on one side only", map[string]any{"available": 500.0}, map[string]any{"amount": -200.0, "reason": "farm"},
			[]audit.Change{{Field: "amount", New: "-200"}, {Field: "available", Old: "500"}, {Field: "reason", New: "farm"}}},
		{"lists and flags as text", map[string]any{"scopes": []any{"read"}, "on": false}, map[string]any{"scopes": []any{"read", "redeem"}, "on": true},
			[]audit.Change{{Field: "on", Old: "false", New: "true"}, {Field: "scopes", Old: `["read"]`, New: `["read","redeem"]`}}},
	} {
		if got := audit.Diff(tc.before, tc.after); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
