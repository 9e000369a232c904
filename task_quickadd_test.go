// Tests of the quick-add parser (task_quickadd.go): the phrase table, time zones, DST and the traps.
package main

import (
	"strings"
	"testing"
	"time"
)

// qaWant is what a phrase must parse to. Dates are RFC 3339 in the case's
// zone ("" for none); project is a path.
type qaWant struct {
	title, attention, project string
	tags                      []string
	do, late, recur           string
	afterDone                 bool
}

type qaCase struct {
	text string
	zone string // default America/New_York
	now  string // "2006-01-02 15:04" in zone; default Thu 2026-11-26 15:04
	want qaWant
}

// qaProjects are the projects the table's #Project words can name.
var qaProjects = []projectRef{
	{Title: "Home", Path: "Home"}, {Title: "Garden", Path: "Home/Garden"},
	{Title: "Camano", Path: "Camano"}, {Title: "Camano Chores", Path: "Camano Chores"},
	{Title: "Work", Path: "Work"}, {Title: "Admin", Path: "Work/Admin"}, {Title: "Admin", Path: "Home/Admin"},
}

func qaCases() []qaCase {
	const (
		tomorrow = "2026-11-27T00:00:00-05:00"
		fri      = tomorrow
		today    = "2026-11-26T00:00:00-05:00"
		in3d     = "2026-11-29T00:00:00-05:00"
		dec24    = "2026-12-24T00:00:00-05:00"
		daily    = "FREQ=DAILY"
		weekly   = "FREQ=WEEKLY"
	)
	return []qaCase{
		// The example and each rule alone.
		{text: "Water plants tomorrow p2 #Garden every 3 days", want: qaWant{title: "Water plants", attention: "orange", project: "Home/Garden", do: tomorrow, recur: "FREQ=DAILY;INTERVAL=3"}},
		{text: "Buy milk", want: qaWant{title: "Buy milk"}},
		{text: "Buy milk p1", want: qaWant{title: "Buy milk", attention: "red"}},
		{text: "p3 Read paper", want: qaWant{title: "Read paper", attention: "blue"}},
		{text: "Read paper P4", want: qaWant{title: "Read paper", attention: "white"}},
		{text: "Fix p5 bug", want: qaWant{title: "Fix p5 bug"}},
		{text: "Fix bug p1 p2", want: qaWant{title: "Fix bug p2", attention: "red"}},
		{text: "Rake leaves #Home/Garden", want: qaWant{title: "Rake leaves", project: "Home/Garden"}},
		{text: "Rake leaves #home/garden", want: qaWant{title: "Rake leaves", project: "Home/Garden"}},
		{text: "Rake leaves #GARDEN", want: qaWant{title: "Rake leaves", project: "Home/Garden"}},
		{text: "Sweep #Camano Chores today", want: qaWant{title: "Sweep", project: "Camano Chores", do: today}},
		{text: "Sweep #camano chores", want: qaWant{title: "Sweep", project: "Camano Chores"}},
		{text: "Sweep #Camano shed", want: qaWant{title: "Sweep shed", project: "Camano"}},
		{text: "Fix gate #Camano Chores Extra", want: qaWant{title: "Fix gate Extra", project: "Camano Chores"}},
		{text: "#Camano Chores", want: qaWant{project: "Camano Chores"}},
		{text: "Call #1 fan", want: qaWant{title: "Call #1 fan"}},
		{text: "Plant #Orchard trees", want: qaWant{title: "Plant #Orchard trees"}},
		{text: "File #Admin report", want: qaWant{title: "File #Admin report"}}, // two projects are named Admin
		{text: "File #Work/Admin report", want: qaWant{title: "File report", project: "Work/Admin"}},
		{text: "Move #Home #Work", want: qaWant{title: "Move #Work", project: "Home"}},
		{text: "Pay rent +bills +home", want: qaWant{title: "Pay rent", tags: []string{"bills", "home"}}},
		{text: "Pay rent +home +bills +home", want: qaWant{title: "Pay rent", tags: []string{"bills", "home"}}},
		{text: "Visit café +café", want: qaWant{title: "Visit café", tags: []string{"café"}}},
		{text: "Buy C++ book", want: qaWant{title: "Buy C++ book"}},
		{text: "Vote +1 on proposal", want: qaWant{title: "Vote +1 on proposal"}},
		{text: "Add + sign", want: qaWant{title: "Add + sign"}},
		// Dates.
		{text: "Stretch +3d", want: qaWant{title: "Stretch", do: in3d}},
		{text: "Call mom fri", want: qaWant{title: "Call mom", do: fri}},
		{text: "Call mom Friday", want: qaWant{title: "Call mom", do: fri}},
		{text: "Call mom on friday", want: qaWant{title: "Call mom", do: fri}},
		{text: "Work on slides", want: qaWant{title: "Work on slides"}},
		{text: "Dentist in 3d", want: qaWant{title: "Dentist", do: in3d}},
		{text: "Dentist in 2w", want: qaWant{title: "Dentist", do: "2026-12-10T00:00:00-05:00"}},
		{text: "Plan trip next week", want: qaWant{title: "Plan trip", do: "2026-11-30T00:00:00-05:00"}},
		{text: "Plan trip next month", want: qaWant{title: "Plan trip", do: "2026-12-01T00:00:00-05:00"}},
		{text: "Buy gifts dec 24", want: qaWant{title: "Buy gifts", do: dec24}},
		{text: "Buy gifts 24 Dec", want: qaWant{title: "Buy gifts", do: dec24}},
		{text: "Buy gifts december 24 18:00", want: qaWant{title: "Buy gifts", do: "2026-12-24T18:00:00-05:00"}},
		{text: "Party 2026-12-24 9:00", want: qaWant{title: "Party", do: "2026-12-24T09:00:00-05:00"}},
		{text: "Party 2026-12-24", want: qaWant{title: "Party", do: dec24}},
		{text: "Standup today 17:00", want: qaWant{title: "Standup", do: "2026-11-26T17:00:00-05:00"}},
		{text: "Standup fri 9:30", want: qaWant{title: "Standup", do: "2026-11-27T09:30:00-05:00"}},
		{text: "Email +2h", want: qaWant{title: "Email", do: "2026-11-26T17:04:00-05:00"}},
		{text: "Review notes 3d ago", want: qaWant{title: "Review notes", do: "2026-11-23T00:00:00-05:00"}},
		{text: "Order may 5 p3", want: qaWant{title: "Order", attention: "blue", do: "2027-05-05T00:00:00-04:00"}},
		{text: "Water plants tomorrow tomorrow", want: qaWant{title: "Water plants tomorrow", do: tomorrow}},
		{text: "tomorrow", want: qaWant{do: tomorrow}},
		// Traps: date words meant as text.
		{text: "Call Friday's plumber", want: qaWant{title: "Call Friday's plumber"}},
		{text: "Review the friday report", want: qaWant{title: "Review the friday report"}},
		{text: "Send report by the friday", want: qaWant{title: "Send report by the friday"}},
		{text: "Watch Friday Night Lights", want: qaWant{title: "Watch Friday Night Lights"}},
		{text: "Watch Tomorrow Never Dies", want: qaWant{title: "Watch Tomorrow Never Dies"}},
		{text: "Book flights for march 3", want: qaWant{title: "Book flights for march 3"}},
		{text: "Friday: prep slides", want: qaWant{title: "Friday: prep slides"}},
		{text: "Buy 3d printer", want: qaWant{title: "Buy 3d printer"}},
		{text: "Buy 2m cable", want: qaWant{title: "Buy 2m cable"}},
		{text: "Call now", want: qaWant{title: "Call now"}},
		{text: "Order none", want: qaWant{title: "Order none"}},
		{text: "Fix jun tiles", want: qaWant{title: "Fix jun tiles"}},
		{text: "Meet at 2026-13-01", want: qaWant{title: "Meet at 2026-13-01"}},
		{text: "Buy feb 30 tickets", want: qaWant{title: "Buy feb 30 tickets"}},
		{text: "Call Bob Friday", want: qaWant{title: "Call Bob", do: fri}},
		// Quoting and escapes.
		{text: `Read "next week" newsletter`, want: qaWant{title: `Read "next week" newsletter`}},
		{text: `Call "Friday"`, want: qaWant{title: `Call "Friday"`}},
		{text: `Say "hi`, want: qaWant{title: `Say "hi`}},
		{text: `Quote "p1 #Home +x", then go`, want: qaWant{title: `Quote "p1 #Home +x", then go`}},
		{text: `Read \tomorrow magazine`, want: qaWant{title: "Read tomorrow magazine"}},
		{text: `Buy \p1 cable`, want: qaWant{title: "Buy p1 cable"}},
		{text: `Tag \+urgent literally`, want: qaWant{title: "Tag +urgent literally"}},
		{text: `Tell \#Home story p2`, want: qaWant{title: "Tell #Home story", attention: "orange"}},
		{text: `Path C:\temp cleanup`, want: qaWant{title: `Path C:\temp cleanup`}},
		{text: `Lone \ backslash`, want: qaWant{title: `Lone \ backslash`}},
		// Late dates.
		{text: "Taxes late dec 24", want: qaWant{title: "Taxes", late: dec24}},
		{text: "Taxes by fri", want: qaWant{title: "Taxes", late: fri}},
		{text: "Taxes by fri in 3d", want: qaWant{title: "Taxes", late: fri, do: in3d}},
		{text: "Stand by me", want: qaWant{title: "Stand by me"}},
		{text: "Pay by card tomorrow", want: qaWant{title: "Pay by card", do: tomorrow}},
		{text: "Running late", want: qaWant{title: "Running late"}},
		{text: "Taxes by fri late dec 24", want: qaWant{title: "Taxes late dec 24", late: fri}},
		// Recurrence.
		{text: "Take pills daily", want: qaWant{title: "Take pills", recur: daily}},
		{text: "Write weekly report", want: qaWant{title: "Write weekly report"}},
		{text: "Write report weekly p2", want: qaWant{title: "Write report", attention: "orange", recur: weekly}},
		{text: "Gym weekdays", want: qaWant{title: "Gym", recur: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}},
		{text: "Gym every mon,thu", want: qaWant{title: "Gym", recur: "FREQ=WEEKLY;BYDAY=MO,TH"}},
		{text: "Gym every mon and thu", want: qaWant{title: "Gym", recur: "FREQ=WEEKLY;BYDAY=MO,TH"}},
		{text: "Gym every mon buy shoes", want: qaWant{title: "Gym buy shoes", recur: "FREQ=WEEKLY;BYDAY=MO"}},
		{text: "Read every book", want: qaWant{title: "Read every book"}},
		{text: "Backup every day", want: qaWant{title: "Backup", recur: daily}},
		{text: "Pay bills monthly", want: qaWant{title: "Pay bills", recur: "FREQ=MONTHLY"}},
		{text: "Review every other week", want: qaWant{title: "Review", recur: "FREQ=WEEKLY;INTERVAL=2"}},
		{text: "Team sync every 2 weeks on mon", want: qaWant{title: "Team sync", recur: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"}},
		{text: "Mow lawn every 2 weeks after done", want: qaWant{title: "Mow lawn", recur: "FREQ=WEEKLY;INTERVAL=2", afterDone: true}},
		{text: "Clean up after done", want: qaWant{title: "Clean up after done"}},
		{text: "Descale daily daily", want: qaWant{title: "Descale daily", recur: daily}},
		// Everything at once, in any order.
		{text: "Pay #Home rent +bills p1 fri late dec 24 every month", want: qaWant{title: "Pay rent", attention: "red", project: "Home",
			tags: []string{"bills"}, do: fri, late: dec24, recur: "FREQ=MONTHLY"}},
		{text: "p2 +errand #home/garden Buy seeds tomorrow", want: qaWant{title: "Buy seeds", attention: "orange", project: "Home/Garden",
			tags: []string{"errand"}, do: tomorrow}},
		{text: "   Buy    milk   ", want: qaWant{title: "Buy milk"}},
		{text: "", want: qaWant{}},
		// Other zones, near midnight and across DST.
		{text: "Pay tomorrow", zone: "Asia/Kolkata", now: "2026-11-26 23:59", want: qaWant{title: "Pay", do: "2026-11-27T00:00:00+05:30"}},
		{text: "Pay today", zone: "Asia/Kolkata", now: "2026-11-27 00:00", want: qaWant{title: "Pay", do: "2026-11-27T00:00:00+05:30"}},
		{text: "Cheer tomorrow", zone: "UTC", now: "2026-12-31 23:59", want: qaWant{title: "Cheer", do: "2027-01-01T00:00:00Z"}},
		{text: "Gifts dec 24", zone: "UTC", now: "2026-12-31 23:59", want: qaWant{title: "Gifts", do: "2027-12-24T00:00:00Z"}},
		{text: "Plan next week", zone: "UTC", now: "2026-12-31 23:59", want: qaWant{title: "Plan", do: "2027-01-04T00:00:00Z"}},
		{text: "Swim today", zone: "Pacific/Auckland", now: "2026-11-27 00:01", want: qaWant{title: "Swim", do: "2026-11-27T00:00:00+13:00"}},
		{text: "Swim fri", zone: "Pacific/Auckland", now: "2026-11-27 00:01", want: qaWant{title: "Swim", do: "2026-12-04T00:00:00+13:00"}},
		{text: "Jog tomorrow", zone: "America/New_York", now: "2026-03-07 22:00", want: qaWant{title: "Jog", do: "2026-03-08T00:00:00-05:00"}},
		{text: "Jog tomorrow 2:30", zone: "America/New_York", now: "2026-03-07 22:00", want: qaWant{title: "Jog", do: "2026-03-08T03:30:00-04:00"}},
		{text: "Jog in 1d", zone: "America/New_York", now: "2026-03-08 00:30", want: qaWant{title: "Jog", do: "2026-03-09T00:00:00-04:00"}},
		{text: "Nap 2026-11-01 1:30", zone: "America/New_York", now: "2026-10-30 12:00", want: qaWant{title: "Nap", do: "2026-11-01T01:30:00-04:00"}},
		{text: "Tea tomorrow", zone: "Europe/London", now: "2026-10-24 23:30", want: qaWant{title: "Tea", do: "2026-10-25T00:00:00+01:00"}},
		{text: "Tea tomorrow 12:00 by mon", zone: "Europe/London", now: "2026-10-24 23:30", want: qaWant{title: "Tea",
			do: "2026-10-25T12:00:00Z", late: "2026-10-26T00:00:00Z"}},
		{text: "Rum tomorrow", zone: "America/Havana", now: "2026-03-07 12:00", want: qaWant{title: "Rum", do: "2026-03-08T01:00:00-04:00"}},
	}
}

func TestParseQuickAddTable(t *testing.T) {
	cases := qaCases()
	if len(cases) < 80 {
		t.Fatalf("the table has %d phrases; the issue wants at least 80", len(cases))
	}
	for _, c := range cases {
		zone, nowText := c.zone, c.now
		if zone == "" {
			zone = "America/New_York"
		}
		if nowText == "" {
			nowText = "2026-11-26 15:04"
		}
		loc := loadZone(t, zone)
		now, err := time.ParseInLocation("2006-01-02 15:04", nowText, loc)
		if err != nil {
			t.Fatal(err)
		}
		got := parseQuickAdd(c.text, now, qaProjects)
		if diff := qaDiff(got, c.want, loc); diff != "" {
			t.Errorf("parseQuickAdd(%q) at %s %s: %s\n  tokens %+v", c.text, nowText, zone, diff, got.Tokens)
		}
		checkTokens(t, c.text, got)
	}
}

// qaDiff lists the fields of got that differ from want.
func qaDiff(got quickAddResult, want qaWant, loc *time.Location) string {
	var d []string
	check := func(name, g, w string) {
		if g != w {
			d = append(d, name+" "+quote(g)+", want "+quote(w))
		}
	}
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	check("title", got.Title, want.title)
	check("attention", got.Attention, want.attention)
	proj := ""
	if got.Project != nil {
		proj = got.Project.Path
	}
	check("project", proj, want.project)
	check("tags", strings.Join(got.Tags, ","), strings.Join(want.tags, ","))
	check("do", date(got.Do), want.do)
	check("late", date(got.Late), want.late)
	check("recur", got.Recur, want.recur)
	if got.RecurAfterDone != want.afterDone {
		d = append(d, "recur_after_done differs")
	}
	return strings.Join(d, "; ")
}

func quote(s string) string { return `"` + s + `"` }

// checkTokens checks that the tokens cover the text's words in order and
// that the title tokens are the title (white space compared as single
// spaces: a quoted phrase keeps its own).
func checkTokens(t *testing.T, text string, got quickAddResult) {
	t.Helper()
	var words, title []string
	for _, tok := range got.Tokens {
		words = append(words, tok.Text)
		if tok.Role == "title" {
			title = append(title, titleText(tok.Text))
		}
		switch tok.Role {
		case "title", "attention", "project", "tag", "do", "late", "recur":
		default:
			t.Errorf("%q: token %q has an unknown role %q", text, tok.Text, tok.Role)
		}
	}
	if norm(strings.Join(words, " ")) != norm(text) {
		t.Errorf("%q: tokens %q do not cover the text in order", text, words)
	}
	if norm(strings.Join(title, " ")) != norm(got.Title) {
		t.Errorf("%q: title tokens %q are not the title %q", text, title, got.Title)
	}
}

// norm joins s's words with single spaces.
func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

// titleText is a title token's text as the title shows it: the backslash
// that escapes a single word is dropped.
func titleText(tok string) string {
	if len(tok) > 1 && tok[0] == '\\' && len(strings.Fields(tok)) == 1 {
		return tok[1:]
	}
	return tok
}

// TestParseQuickAddNeverPanics feeds the parser odd input: it must return
// and keep every word.
func TestParseQuickAddNeverPanics(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	for _, in := range []string{`"`, `""`, `\`, `\\`, "#", "+", "every", "late", "by", "on", "after", "after done every",
		"every every every", "#Camano", "p1 p1 p1", "\x00 tomorrow", "\u00a0tomorrow\u00a0", strings.Repeat("every ", 50),
		strings.Repeat("#Camano ", 20), "\"a\"b\"c\""} {
		got := parseQuickAdd(in, now, qaProjects)
		checkTokens(t, in, got)
	}
}

// TestParseQuickAddLongInput: the longest text quick add takes, made of
// the words that make the parser look furthest (capitalized date words,
// project and recurrence starts), keeps every word.
func TestParseQuickAddLongInput(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	for _, word := range []string{"Friday ", "#Camano ", "every ", "by ", "on ", "weekly "} {
		text := strings.Repeat(word, maxQuickAddText/len(word))
		got := parseQuickAdd(text, now, qaProjects)
		checkTokens(t, text[:len(text)-1], got)
	}
}

// BenchmarkParseQuickAdd parses a typical line and the longest text quick
// add accepts (make bench).
func BenchmarkParseQuickAdd(b *testing.B) {
	now := time.Date(2026, 11, 26, 15, 4, 0, 0, time.UTC)
	for _, c := range []struct{ name, text string }{
		{"typical", "Water plants tomorrow p2 #Garden every 3 days +green by fri"},
		{"longest", strings.Repeat("Friday ", maxQuickAddText/7)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				parseQuickAdd(c.text, now, qaProjects)
			}
		})
	}
}

// FuzzParseQuickAdd: any text parses without panicking, its tokens cover
// its words in order, the title is the title tokens, and a field set
// from the text is valid for task.create.
func FuzzParseQuickAdd(f *testing.F) {
	for _, c := range qaCases() {
		f.Add(c.text)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 3, 7, 23, 30, 0, 0, ny)
	f.Fuzz(func(t *testing.T, text string) {
		got := parseQuickAdd(text, now, qaProjects)
		checkTokens(t, text, got)
		if got.Attention != "" {
			if _, err := normalizeAttention(got.Attention); err != nil {
				t.Fatalf("%q: attention %q", text, got.Attention)
			}
		}
		if got.Recur != "" {
			if _, err := normalizeRecur(got.Recur); err != nil {
				t.Fatalf("%q: recur %q: %v", text, got.Recur, err)
			}
		}
		if _, err := normalizeTags(got.Tags); err != nil {
			t.Fatalf("%q: tags %q: %v", text, got.Tags, err)
		}
	})
}
