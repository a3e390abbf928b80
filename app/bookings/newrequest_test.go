package bookings

import (
	"testing"

	"ikra/ent"
)

// A staff member's new-request notification names its booking; any other
// notification, or a key that does not match its member, names none.
func TestNewRequestOf(t *testing.T) {
	for _, tt := range []struct {
		n    *ent.Notification
		want int
	}{
		{&ent.Notification{Kind: KindNewRequest, MemberID: 7, DedupKey: newRequestKey(42, 7)}, 42},
		{&ent.Notification{Kind: KindNewRequest, MemberID: 8, DedupKey: newRequestKey(42, 7)}, 0},
		{&ent.Notification{Kind: "booking.confirmed", MemberID: 7, DedupKey: newRequestKey(42, 7)}, 0},
		{&ent.Notification{Kind: KindNewRequest, MemberID: 7, DedupKey: "booking:42:new:7:x"}, 0},
		{&ent.Notification{Kind: KindNewRequest, MemberID: 7, DedupKey: "booking:-1:new:7"}, 0},
		{&ent.Notification{Kind: KindNewRequest, MemberID: 7, DedupKey: ""}, 0},
		{nil, 0},
	} {
		got, ok := NewRequestOf(tt.n)
		if got != tt.want || ok != (tt.want > 0) {
			t.Errorf("NewRequestOf(%+v) = %d, %v; want %d", tt.n, got, ok, tt.want)
		}
	}
}
