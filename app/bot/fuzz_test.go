package bot_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"ikra/app/apptest"
)

// FuzzWebhookUpdate posts whatever arrives as a Telegram update to the webhook, the
// way Telegram delivers it: the answer is always 200 (an update that does not decode
// is dropped, since delivering it again would not help; any other answer makes
// Telegram retry it forever), and the same update delivered again sends nothing more.
func FuzzWebhookUpdate(f *testing.F) {
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":5,"from":{"id":4401,"first_name":"Мадина","language_code":"ru"},"chat":{"id":4401,"type":"private"},"text":"/start ref_ABCD2345"}}`,
		`{"update_id":2,"message":{"message_id":6,"from":{"id":4402,"first_name":"<script>alert(1)</script>"},"chat":{"id":4402,"type":"private"},"text":"/book 1"}}`,
		`{"update_id":3,"callback_query":{"id":"c","from":{"id":4403,"first_name":"A"},"chat_instance":"1","data":"book:1e400","message":{"message_id":1,"date":1,"chat":{"id":4403,"type":"private"},"text":"x"}}}`,
		`{"update_id":4,"message":{"message_id":7,"from":{"id":-1,"first_name":"\u0000\udcff"},"chat":{"id":-1,"type":"group"},"text":"\u0000"}}`,
		`{"update_id":5,"message":{"message_id":8,"from":{"id":4405,"first_name":"B"},"chat":{"id":4405,"type":"private"},"contact":{"phone_number":"+77010000000","user_id":4405}}}`,
		`{"update_id":6,"message":{"message_id":9,"from":{"id":4406,"first_name":"C"},"chat":{"id":4406,"type":"private"},"text":"/code ' OR 1=1--"}}`,
		`{"update_id":99999999999999999999}`, `{"update_id":"x"}`, `[]`, `null`, `{`, "",
	} {
		f.Add([]byte(s))
	}
	env, api := newWorld(f)
	post := func(t *testing.T, body []byte) int {
		req, _ := http.NewRequest("POST", env.URL("/telegram/webhook/"+secret), strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		apptest.Must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if s := post(t, body); s != http.StatusOK {
			t.Fatalf("webhook answered %d to %q", s, body)
		}
		var u struct {
			UpdateID int64 `json:"update_id"`
		}
		if json.Unmarshal(body, &u) != nil || u.UpdateID == 0 {
			return
		}
		api.Reset()
		if s := post(t, body); s != http.StatusOK {
			t.Fatalf("webhook answered %d to %q delivered again", s, body)
		}
		if calls := api.Calls(); len(calls) > 0 {
			t.Fatalf("%q delivered again made %d Bot API calls, first %s", body, len(calls), calls[0].Method)
		}
	})
}
