package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/support"
	"ikra/ent"
	"ikra/ent/auditlog"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/notification"
	"ikra/ent/supportmessage"
	"ikra/ent/supportthread"
	"ikra/jobs"
)

func init() {
	matrixSections = append(matrixSections, supportMatrix)
	auditSections = append(auditSections, supportAudit)
}

// openThread opens a thread for the member through the domain, as the cabinet does.
func openThread(t *testing.T, env *apptest.Env, memberID int, kind string, offerID int) *ent.SupportThread {
	t.Helper()
	th, _, err := env.App.Support.Open(context.Background(), support.OpenInput{
		MemberID: memberID, Body: "Помогите, пожалуйста", Channel: support.ChannelWeb, Kind: kind, OfferID: offerID,
	})
	apptest.Must(t, err)
	return th
}

// supportMatrix is the care service's rows of the authorization matrix.
func supportMatrix(t *testing.T, f *fixture) map[string]matrixCase {
	s := apptest.Itoa(openThread(t, f.env, f.memberID, support.KindSupport, 0).ID)
	c := apptest.Itoa(openThread(t, f.env, f.memberID, support.KindConcierge, f.offerA).ID)
	empty := url.Values{"body": {""}}
	rows := map[string]matrixCase{
		"GET /app/support":                     {"/app/support", nil, expect(ok, map[string]int{"anon": see})},
		"POST /app/support":                    {"/app/support", empty, expect(http.StatusUnprocessableEntity, map[string]int{"anon": unauth})},
		"GET /app/support/:id":                 {"/app/support/" + s, nil, expect(nf, map[string]int{"anon": see, "member": ok})},
		"POST /app/support/:id":                {"/app/support/" + s, empty, expect(nf, map[string]int{"anon": unauth, "member": http.StatusUnprocessableEntity})},
		"GET /app/support/:id/files/:name":     {"/app/support/" + s + "/files/none.jpg", nil, expect(nf, map[string]int{"anon": see})},
		"POST /app/offers/:id/concierge":       {"/app/offers/" + apptest.Itoa(f.offerA) + "/concierge", empty, expect(see, map[string]int{"anon": unauth})},
		"POST /admin/concierge/:id/book":       {"/admin/concierge/999999/book", url.Values{}, expect(forbid, map[string]int{"anon": unauth, "superadmin,concierge": nf})},
		"GET /admin/support/:id/files/:name":   {"/admin/support/" + s + "/files/none.jpg", nil, expect(forbid, map[string]int{"anon": see, "superadmin,support": nf})},
		"GET /admin/concierge/:id/files/:name": {"/admin/concierge/" + c + "/files/none.jpg", nil, expect(forbid, map[string]int{"anon": see, "superadmin,concierge": nf})},
	}
	for kind, id := range map[string]string{support.KindSupport: s, support.KindConcierge: c} {
		staff := "superadmin," + kind
		base := "/admin/" + kind
		rows["GET "+base] = matrixCase{base, nil, expect(forbid, map[string]int{"anon": see, staff: ok})}
		rows["GET "+base+"/:id"] = matrixCase{base + "/" + id, nil, expect(forbid, map[string]int{"anon": see, staff: ok})}
		// Refused input goes back to the thread with an error message.
		rows["POST "+base+"/:id/assign"] = matrixCase{base + "/" + id + "/assign", url.Values{"assignee": {"x"}}, expect(forbid, map[string]int{"anon": unauth, staff: see})}
		rows["POST "+base+"/:id/reply"] = matrixCase{base + "/" + id + "/reply", empty, expect(forbid, map[string]int{"anon": unauth, staff: see})}
		rows["POST "+base+"/:id/note"] = matrixCase{base + "/" + id + "/note", empty, expect(forbid, map[string]int{"anon": unauth, staff: see})}
		rows["POST "+base+"/:id/resolve"] = matrixCase{base + "/999999/resolve", url.Values{}, expect(forbid, map[string]int{"anon": unauth, staff: nf})}
	}
	return rows
}

// supportAudit makes one successful call of every care-service action.
func supportAudit(t *testing.T, f *fixture) map[string]auditCase {
	fresh := func(kind, action string) func(t *testing.T) string {
		return func(t *testing.T) string {
			th := openThread(t, f.env, f.memberID, kind, map[string]int{support.KindConcierge: f.offerA}[kind])
			return "/admin/" + kind + "/" + apptest.Itoa(th.ID) + "/" + action
		}
	}
	out := map[string]auditCase{}
	for _, kind := range []string{support.KindSupport, support.KindConcierge} {
		base := "POST /admin/" + kind + "/:id/"
		out[base+"assign"] = auditCase{role: kind, form: url.Values{"assignee": {"me"}}, prepare: fresh(kind, "assign")}
		out[base+"reply"] = auditCase{role: kind, form: url.Values{"body": {"Ответ"}}, prepare: fresh(kind, "reply")}
		out[base+"note"] = auditCase{role: kind, form: url.Values{"body": {"Заметка"}}, prepare: fresh(kind, "note")}
		out[base+"resolve"] = auditCase{role: kind, form: url.Values{}, prepare: fresh(kind, "resolve")}
	}
	book := fresh(support.KindConcierge, "book")
	out["POST /admin/concierge/:id/book"] = auditCase{role: "concierge", form: url.Values{}, prepare: func(t *testing.T) string {
		// The fixture's member already holds a booking of the offer.
		apptest.Must(t, f.env.App.DB.Offer.UpdateOneID(f.offerA).SetPerMemberLimit(100).Exec(context.Background()))
		return book(t)
	}}
	return out
}

// supportWorld is an app with a member, a support agent, a concierge and a moderator.
type supportWorld struct {
	env                         *apptest.Env
	member, agent, concierge    *apptest.Client
	memberRow, agentRow, conRow *ent.Member
	moderator, superadmin       *apptest.Client
}

func newSupportWorld(t *testing.T, opts ...apptest.Option) *supportWorld {
	env := apptest.New(t, opts...)
	w := &supportWorld{env: env}
	ctx := context.Background()
	w.member, w.memberRow = env.Member(7_600_001, "Айгерим")
	grant := func(tg int64, name, role string) (*apptest.Client, *ent.Member) {
		_, m := env.Member(tg, name)
		_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, m.ID, role, nil)
		apptest.Must(t, err)
		c := env.Client()
		c.SignIn(tg, name)
		return c, m
	}
	w.agent, w.agentRow = grant(7_600_002, "Оператор", "support")
	w.concierge, w.conRow = grant(7_600_003, "Консьерж", "concierge")
	w.moderator, _ = grant(7_600_004, "Модератор", "moderator")
	w.superadmin, _ = grant(7_600_005, "Админ", "superadmin")
	return w
}

// location is where a redirect points, without its host.
func location(r *apptest.Response) string { return r.Header.Get("Location") }

func threadIDFrom(t *testing.T, r *apptest.Response) string {
	t.Helper()
	loc := location(r)
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/app/support/") {
		t.Fatalf("want a redirect to the thread: %d %q %.300s", r.Status, loc, r.Body)
	}
	return strings.TrimPrefix(loc, "/app/support/")
}

// A member opens a thread on the web: the acknowledgement answers at once with a
// notification; support sees it unassigned, replies (one notification per reply),
// leaves an internal note the member never sees, and resolves; the times are set and
// shown; the member writing again opens it again.
func TestSupportThreadLifecycle(t *testing.T) {
	w := newSupportWorld(t)
	ctx := context.Background()
	db := w.env.App.DB.Client

	page := w.member.Get("/app/support")
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `action="/app/support"`) {
		t.Fatalf("support page: %d", page.Status)
	}
	if r := w.member.Post("/app/support", url.Values{"subject": {"Вопрос"}, "body": {"  "}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Напишите сообщение") {
		t.Fatalf("empty body: %d", r.Status)
	}
	if r := w.member.Post("/app/support", url.Values{"body": {strings.Repeat("я", support.MaxBody+1)}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("too long: %d", r.Status)
	}
	id := threadIDFrom(t, w.member.Post("/app/support", url.Values{"subject": {"Не пришли бонусы"}, "body": {"Где мои бонусы за ужин?"}}))
	th, err := db.SupportThread.Query().Where(supportthread.MemberID(w.memberRow.ID)).Only(ctx)
	apptest.Must(t, err)
	if th.Channel != supportthread.ChannelWeb || th.Status != supportthread.StatusOpen || apptest.Itoa(th.ID) != id {
		t.Fatalf("thread %+v", th)
	}
	msgs, err := db.SupportMessage.Query().Where(supportmessage.ThreadID(th.ID)).All(ctx)
	apptest.Must(t, err)
	if len(msgs) != 2 || msgs[1].Automatic != true || !msgs[1].FromStaff {
		t.Fatalf("messages after opening: %+v", msgs)
	}
	ack, err := db.Notification.Query().Where(notification.MemberID(w.memberRow.ID), notification.Kind("support.ack")).Only(ctx)
	apptest.Must(t, err)
	if ack.Link != "/app/support/"+id || ack.TelegramSentAt != nil {
		t.Fatalf("acknowledgement notification %+v", ack)
	}
	if p := w.member.Get("/app/support/" + id); !strings.Contains(p.Body, "круглосуточно") || !strings.Contains(p.Body, "Где мои бонусы") {
		t.Fatalf("thread page lacks the acknowledgement: %.500s", p.Body)
	}

	// The queue: unassigned first.
	q := w.agent.Get("/admin/support?tab=unassigned")
	if q.Status != http.StatusOK || !strings.Contains(q.Body, "Не пришли бонусы") || !strings.Contains(q.Body, `href="/admin/members/`+apptest.Itoa(w.memberRow.ID)+`"`) {
		t.Fatalf("unassigned tab: %d", q.Status)
	}
	if q := w.agent.Get("/admin/support?tab=mine"); strings.Contains(q.Body, "Не пришли бонусы") {
		t.Fatal("an unassigned thread under mine")
	}

	base := "/admin/support/" + id
	if r := w.agent.Post(base+"/note", url.Values{"body": {"СЕКРЕТНАЯ-ЗАМЕТКА проверить леджер"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("note: %d", r.Status)
	}
	if r := w.agent.Post(base+"/reply", url.Values{"body": {"Бонусы начислятся через 14 дней."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reply: %d", r.Status)
	}
	if r := w.agent.Post(base+"/reply", url.Values{"body": {"И ещё: проверьте раздел «Бонусы»."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("second reply: %d", r.Status)
	}
	th, err = db.SupportThread.Get(ctx, th.ID)
	apptest.Must(t, err)
	if th.Status != supportthread.StatusAnswered || th.FirstResponseAt == nil || th.AssigneeID == nil || *th.AssigneeID != w.agentRow.ID {
		t.Fatalf("after reply %+v", th)
	}
	first := *th.FirstResponseAt
	replies, err := db.Notification.Query().Where(notification.MemberID(w.memberRow.ID), notification.Kind("support.reply")).All(ctx)
	apptest.Must(t, err)
	if len(replies) != 2 {
		t.Fatalf("%d reply notifications, want one per reply", len(replies))
	}
	for _, n := range replies {
		if strings.Contains(n.Body, "СЕКРЕТНАЯ") || n.Link != "/app/support/"+id {
			t.Fatalf("reply notification %+v", n)
		}
	}
	mp := w.member.Get("/app/support/" + id)
	if !strings.Contains(mp.Body, "Бонусы начислятся через 14 дней.") || strings.Contains(mp.Body, "СЕКРЕТНАЯ") {
		t.Fatalf("member's page: reply missing or internal note shown: %.800s", mp.Body)
	}
	if ex := w.member.Get("/app/settings/export"); ex.Status != http.StatusOK || !strings.Contains(ex.Body, "Бонусы начислятся") || strings.Contains(ex.Body, "СЕКРЕТНАЯ") {
		t.Fatalf("data export: %d, reply missing or internal note included", ex.Status)
	}
	sp := w.agent.Get(base)
	if !strings.Contains(sp.Body, "СЕКРЕТНАЯ") || !strings.Contains(sp.Body, "msg-internal") || !strings.Contains(sp.Body, `action="`+base+`/resolve"`) {
		t.Fatalf("staff page: %.500s", sp.Body)
	}
	if q := w.agent.Get("/admin/support?tab=waiting"); !strings.Contains(q.Body, "Не пришли бонусы") {
		t.Fatal("an answered thread is not under waiting for member")
	}
	if q := w.agent.Get("/admin/support?tab=mine"); !strings.Contains(q.Body, "Не пришли бонусы") {
		t.Fatal("the replier's thread is not under mine")
	}

	if r := w.agent.Post(base+"/resolve", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("resolve: %d", r.Status)
	}
	th, err = db.SupportThread.Get(ctx, th.ID)
	apptest.Must(t, err)
	if th.Status != supportthread.StatusClosed || th.ResolvedAt == nil || !th.FirstResponseAt.Equal(first) {
		t.Fatalf("after resolve %+v", th)
	}
	if n, _ := db.Notification.Query().Where(notification.MemberID(w.memberRow.ID), notification.Kind("support.resolved")).Count(ctx); n != 1 {
		t.Fatalf("%d resolution notifications", n)
	}
	if q := w.agent.Get("/admin/support?tab=resolved"); !strings.Contains(q.Body, "Не пришли бонусы") {
		t.Fatal("not under resolved")
	}
	if r := w.agent.Post(base+"/reply", url.Values{"body": {"ещё"}}); !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "support_closed") {
		t.Fatal("a reply to a resolved thread was not refused")
	}
	for _, action := range []string{"note", "reply", "resolve"} {
		if n, _ := db.AuditLog.Query().Where(auditlog.Action("support."+action), auditlog.TargetID(id)).Count(ctx); n == 0 {
			t.Errorf("no audit entry for %s", action)
		}
	}
	st, err := w.env.App.Support.Stats(ctx, th.CreatedAt.Add(-time.Second), th.ResolvedAt.Add(time.Second))
	apptest.Must(t, err)
	if st.Resolved != 1 || st.Answered != 1 || st.Open != 0 {
		t.Fatalf("stats %+v", st)
	}

	// The member writes again: the thread opens again.
	if r := w.member.Post("/app/support/"+id, url.Values{"body": {"Бонусы так и не пришли"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("write again: %d", r.Status)
	}
	th, err = db.SupportThread.Get(ctx, th.ID)
	apptest.Must(t, err)
	if th.Status != supportthread.StatusOpen || th.ResolvedAt != nil {
		t.Fatalf("after writing again %+v", th)
	}
	// Someone else's thread is not there.
	other, _ := w.env.Member(7_600_009, "Чужой")
	if r := other.Get("/app/support/" + id); r.Status != http.StatusNotFound {
		t.Fatalf("another member sees the thread: %d", r.Status)
	}
	// Support staff cannot annul bonuses or change settings.
	if r := w.agent.Post("/admin/members/"+apptest.Itoa(w.memberRow.ID)+"/annul", url.Values{"amount": {"1"}, "reason": {"x"}}); r.Status != http.StatusForbidden {
		t.Fatalf("support annuls: %d", r.Status)
	}
	if r := w.agent.Post("/admin/settings/bonus", url.Values{"welcome": {"1"}}); r.Status != http.StatusForbidden {
		t.Fatalf("support changes settings: %d", r.Status)
	}
}

// Images attached to a message are cleaned and served only to the thread's member and
// its staff; a file that is not a picture is refused.
func TestSupportAttachments(t *testing.T) {
	w := newSupportWorld(t)
	id := threadIDFrom(t, w.member.Post("/app/support", url.Values{"body": {"Вот скриншот"}}))
	post := func(c *apptest.Client, path string, file []byte) *apptest.Response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("body", "смотрите вложение")
		fw, _ := mw.CreateFormFile("image", "shot.png")
		fw.Write(file)
		mw.Close()
		return c.Send("POST", path, mw.FormDataContentType(), &buf)
	}
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var pic bytes.Buffer
	apptest.Must(t, png.Encode(&pic, img))
	if r := post(w.member, "/app/support/"+id, []byte("not a picture")); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("not a picture: %d", r.Status)
	}
	if r := post(w.member, "/app/support/"+id, pic.Bytes()); r.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %.300s", r.Status, r.Body)
	}
	msg, err := w.env.App.DB.SupportMessage.Query().Where(supportmessage.BodyEQ("смотрите вложение")).Only(context.Background())
	apptest.Must(t, err)
	if len(msg.Attachments) != 1 || !strings.HasPrefix(msg.Attachments[0], "support/"+id+"/") {
		t.Fatalf("attachments %v", msg.Attachments)
	}
	name := support.AttachmentName(msg.Attachments[0])
	if r := w.member.Get("/app/support/" + id + "/files/" + name); r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "image/") {
		t.Fatalf("member's own image: %d", r.Status)
	}
	if r := w.agent.Get("/admin/support/" + id + "/files/" + name); r.Status != http.StatusOK {
		t.Fatalf("staff image: %d", r.Status)
	}
	other, _ := w.env.Member(7_600_010, "Чужой")
	if r := other.Get("/app/support/" + id + "/files/" + name); r.Status != http.StatusNotFound {
		t.Fatalf("another member gets the image: %d", r.Status)
	}
	if r := w.concierge.Get("/admin/support/" + id + "/files/" + name); r.Status != http.StatusForbidden {
		t.Fatalf("concierge gets a support image: %d", r.Status)
	}
	// An image on an internal note is the staff's only.
	if r := post(w.agent, "/admin/support/"+id+"/note", pic.Bytes()); r.Status != http.StatusSeeOther {
		t.Fatalf("note with image: %d", r.Status)
	}
	note, err := w.env.App.DB.SupportMessage.Query().Where(supportmessage.Internal(true)).Only(context.Background())
	apptest.Must(t, err)
	noteFile := support.AttachmentName(note.Attachments[0])
	if r := w.member.Get("/app/support/" + id + "/files/" + noteFile); r.Status != http.StatusNotFound {
		t.Fatalf("member gets an internal note's image: %d", r.Status)
	}
}

// /support in the bot opens a bot thread and answers with the acknowledgement; plain
// text adds to it; a staff reply reaches that chat exactly once, even when the
// delivery job runs twice; the acknowledgement is not sent a second time.
func TestSupportFromBotReplyOnce(t *testing.T) {
	api := newFakeBotAPI(t)
	const secret = "hook-secret-care"
	w := newSupportWorld(t, apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL), apptest.WithEnv("TELEGRAM_WEBHOOK_SECRET", secret))
	ctx := context.Background()
	db := w.env.App.DB.Client
	update := func(n int, text string) {
		body := `{"update_id":` + apptest.Itoa(n) + `,"message":{"message_id":` + apptest.Itoa(n) + `,"from":{"id":7600001,"first_name":"Айгерим","language_code":"ru"},"chat":{"id":7600001,"type":"private"},"text":"` + text + `"}}`
		req, _ := http.NewRequest("POST", w.env.URL("/telegram/webhook/"+secret), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		apptest.Must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("update: %d", resp.StatusCode)
		}
	}
	sent := func() []map[string]any {
		api.mu.Lock()
		defer api.mu.Unlock()
		var out []map[string]any
		for _, c := range api.calls {
			if strings.HasSuffix(c["_path"].(string), "/sendMessage") {
				out = append(out, c)
			}
		}
		return out
	}
	update(1, "/support Не могу забронировать столик")
	th, err := db.SupportThread.Query().Where(supportthread.MemberID(w.memberRow.ID)).Only(ctx)
	apptest.Must(t, err)
	if th.Channel != supportthread.ChannelBot {
		t.Fatalf("channel %s", th.Channel)
	}
	if last := api.last(); last["chat_id"] != "7600001" || !strings.Contains(last["text"].(string), "круглосуточно") {
		t.Fatalf("acknowledgement in the chat: %v", last)
	}
	update(2, "Ресторан на Абая")
	if n, _ := db.SupportMessage.Query().Where(supportmessage.ThreadID(th.ID), supportmessage.FromStaff(false)).Count(ctx); n != 2 {
		t.Fatalf("%d member messages, want 2", n)
	}
	before := len(sent())
	if r := w.agent.Post("/admin/support/"+apptest.Itoa(th.ID)+"/reply", url.Values{"body": {"ОТВЕТ-ОПЕРАТОРА: уже бронируем"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reply: %d", r.Status)
	}
	ns, err := db.Notification.Query().Where(notification.MemberID(w.memberRow.ID), notification.KindHasPrefix("support.")).All(ctx)
	apptest.Must(t, err)
	mux := jobs.NewMux(jobs.Deps{Notify: w.env.App.Notify, Bot: w.env.App.Bot, BaseURL: w.env.Config.BaseURL})
	for range 2 { // the job runs twice for every notification
		for _, n := range ns {
			apptest.Must(t, mux.ProcessTask(ctx, jobs.NewDeliverNotification(n.ID)))
		}
	}
	got := sent()[before:]
	if len(got) != 1 || got[0]["chat_id"] != "7600001" || !strings.Contains(got[0]["text"].(string), "ОТВЕТ-ОПЕРАТОРА") {
		t.Fatalf("sent after the reply: %v", got)
	}
	// A blocked member gets the blocked answer.
	apptest.Must(t, db.Member.UpdateOneID(w.memberRow.ID).SetStatus(member.StatusBlocked).Exec(ctx))
	update(3, "/support ещё вопрос")
	if last := api.last(); !strings.Contains(last["text"].(string), "заблокирован") {
		t.Fatalf("blocked member: %v", last)
	}
}

// A member asks the concierge about an offer; the concierge sees the request, books on
// the member's behalf (the booking records who made it, channel concierge) once, and
// cannot book without a concierge request; support and concierge see only their kind.
func TestConciergeBooksOnBehalf(t *testing.T) {
	w := newSupportWorld(t)
	ctx := context.Background()
	db := w.env.App.DB.Client
	place := w.env.Place()
	p := w.env.Partner(place, "Ресторан")
	o := w.env.Offer(place, p.ID, "Ужин на двоих", func(c *ent.OfferCreate) { c.SetPerMemberLimit(5) })
	offerPath := "/app/offers/" + apptest.Itoa(o.ID)
	if r := w.member.Get(offerPath); !strings.Contains(r.Body, `action="`+offerPath+`/concierge"`) {
		t.Fatal("no concierge form on the offer page")
	}
	id := threadIDFrom(t, w.member.Post(offerPath+"/concierge", url.Values{"body": {"Забронируйте на пятницу"}}))
	th, err := db.SupportThread.Query().Where(supportthread.MemberID(w.memberRow.ID)).Only(ctx)
	apptest.Must(t, err)
	if th.Kind != supportthread.KindConcierge || th.OfferID == nil || *th.OfferID != o.ID {
		t.Fatalf("thread %+v", th)
	}
	if r := w.concierge.Get("/admin/concierge"); !strings.Contains(r.Body, "/admin/concierge/"+id) {
		t.Fatal("the request is not in the concierge list")
	}
	if r := w.agent.Get("/admin/concierge/" + id); r.Status != http.StatusForbidden {
		t.Fatalf("support opens a concierge thread: %d", r.Status)
	}
	// Support cannot book on behalf at all.
	if r := w.agent.Post("/admin/concierge/"+id+"/book", url.Values{}); r.Status != http.StatusForbidden {
		t.Fatalf("support books: %d", r.Status)
	}
	// A support thread is no request: refused, for the superadmin too.
	sid := threadIDFrom(t, w.member.Post("/app/support", url.Values{"body": {"Вопрос"}}))
	if r := w.concierge.Get("/admin/concierge/" + sid); r.Status != http.StatusForbidden {
		t.Fatalf("concierge opens a support thread: %d", r.Status)
	}
	if r := w.superadmin.Get("/admin/concierge/" + sid); r.Status != http.StatusSeeOther || location(r) != "/admin/support/"+sid {
		t.Fatalf("superadmin on the other section: %d %s", r.Status, location(r))
	}
	if r := w.superadmin.Post("/admin/concierge/"+sid+"/book", url.Values{}); !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "concierge_not_request") {
		t.Fatalf("booking on a support thread not refused: %d", r.Status)
	}
	if n, _ := db.Booking.Query().Count(ctx); n != 0 {
		t.Fatalf("%d bookings after refusals", n)
	}

	if r := w.concierge.Post("/admin/concierge/"+id+"/book", url.Values{"comment": {"пятница, 19:00"}}); r.Status != http.StatusSeeOther ||
		strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "error") {
		t.Fatalf("book: %d %v", r.Status, r.Header.Values("Set-Cookie"))
	}
	b, err := db.Booking.Query().Only(ctx)
	apptest.Must(t, err)
	if b.MemberID != w.memberRow.ID || b.OfferID != o.ID || b.Channel != booking.ChannelConcierge || b.BookedByID == nil || *b.BookedByID != w.conRow.ID {
		t.Fatalf("booking %+v", b)
	}
	th, err = db.SupportThread.Get(ctx, th.ID)
	apptest.Must(t, err)
	if th.BookingID == nil || *th.BookingID != b.ID {
		t.Fatalf("thread after booking %+v", th)
	}
	if r := w.member.Get("/app/support/" + id); !strings.Contains(r.Body, b.Code) {
		t.Fatal("the member does not read the booking in the thread")
	}
	if n, _ := db.AuditLog.Query().Where(auditlog.Action("concierge.book"), auditlog.TargetID(id)).Count(ctx); n != 1 {
		t.Fatalf("%d audit entries for the booking", n)
	}
	// Once per request.
	if r := w.concierge.Post("/admin/concierge/"+id+"/book", url.Values{}); !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "concierge_already_booked") {
		t.Fatal("a second booking was not refused")
	}
	if n, _ := db.Booking.Query().Count(ctx); n != 1 {
		t.Fatalf("%d bookings", n)
	}
	// A member's own booking never claims a concierge.
	bk, err := w.env.App.Bookings.Request(ctx, w.memberRow.ID, o.ID, "concierge", "", nil, "")
	apptest.Must(t, err)
	if bk.Channel != booking.ChannelWeb || bk.BookedByID != nil {
		t.Fatalf("member's booking %+v", bk)
	}
}
