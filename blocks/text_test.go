package blocks

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEscTrunc(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"plain", "Salesforce", 20, "Salesforce"},
		{"escapes", "R&D <@U123> > x", -1, "R&amp;D &lt;@U123&gt; &gt; x"},
		{"flattens", "a\n\n b\tc\x00d", -1, "a b cd"},
		{"cuts with ellipsis", "abcdefghij", 5, "abcd…"},
		{"exact fit", "abcde", 5, "abcde"},
		{"never splits an entity", "ab&cd", 5, "ab…"},
		{"entity fits", "ab&cd", 8, "ab&amp;…"},
		{"multibyte counted as characters", "ééééé", 3, "éé…"},
		{"no trailing space before ellipsis", "abc defgh", 5, "abc…"},
		{"zero", "abc", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := escTrunc(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("escTrunc(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if tc.max >= 0 && utf8.RuneCountInString(got) > tc.max {
				t.Errorf("result %q longer than %d", got, tc.max)
			}
		})
	}
}

func TestTruncAndCut(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"trunc short", trunc("Launch", 24), "Launch"},
		{"trunc long", trunc("A very long modal title indeed", 24), "A very long modal title…"},
		{"trunc multibyte", trunc("ääääää", 4), "äää…"},
		{"cutRunes no ellipsis", cutRunes("abcdef", 3), "abc"},
		{"cutRunes multibyte", cutRunes("ééé", 2), "éé"},
		{"cutRunes short", cutRunes("ab", 3), "ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestPaginate(t *testing.T) {
	tests := []struct {
		name         string
		n, pages     int
		lastPageSize int
	}{
		{"none", 0, 0, 0},
		{"one", 1, 1, 1},
		{"a full page", 20, 1, 20},
		{"one over", 21, 2, 1},
		{"two hundred", 200, 10, 20},
		{"negative", -3, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pages, per := Paginate(tc.n)
			if pages != tc.pages || per != perPage {
				t.Fatalf("Paginate(%d) = %d, %d; want %d, %d", tc.n, pages, per, tc.pages, perPage)
			}
			items := make([]int, max(tc.n, 0))
			for i := range items {
				items[i] = i
			}
			var all []int
			for p := 1; p <= pages; p++ {
				page := PageSlice(items, p)
				if len(page) > per {
					t.Fatalf("page %d has %d items", p, len(page))
				}
				all = append(all, page...)
				if p == pages && len(page) != tc.lastPageSize {
					t.Errorf("last page has %d items, want %d", len(page), tc.lastPageSize)
				}
			}
			if len(all) != len(items) || (len(all) > 0 && !reflect.DeepEqual(all, items)) {
				t.Errorf("pages hold %v, want every item once", all)
			}
		})
	}
}

func TestPageSliceOutOfRange(t *testing.T) {
	items := []string{"a", "b", "c"}
	for _, page := range []int{-1, 0, 2} {
		if got := PageSlice(items, page); got != nil {
			t.Errorf("PageSlice(page %d) = %v, want nil", page, got)
		}
	}
	first := PageSlice(items, 1)
	_ = append(first, "x")
	if items[2] != "c" {
		t.Error("appending to a page overwrote the items")
	}
}

func TestCaseBlockID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want int64
		ok   bool
	}{
		{"round trip", CaseBlockID(42), 42, true},
		{"zero", "case:0", 0, true},
		{"other block", "comment", 0, false},
		{"no number", "case:", 0, false},
		{"not a number", "case:4x", 0, false},
		{"negative", "case:-1", 0, false},
		{"leading zero", "case:042", 0, false},
		{"suffix", "case:42:2", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseCaseBlockID(tc.id)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseCaseBlockID(%q) = %d, %v; want %d, %v", tc.id, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestUniqueIDs(t *testing.T) {
	ids := uniqueIDs{}
	got := []string{ids.id("a"), ids.id("a"), ids.id("a:2"), ids.id("a"), ids.id("b")}
	want := []string{"a", "a:2", "a:2:2", "a:3", "b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ids %q, want %q", got, want)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("id %q handed out twice", id)
		}
		seen[id] = true
	}
}

func TestFallback(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "You have 12 items to review", "You have 12 items to review"},
		{"escapes", "Review <!channel> & more", "Review &lt;!channel&gt; &amp; more"},
		{"one line", "line one\nline two", "line one line two"},
		{"empty", "  ", "Access review update from attest"},
		{"long", strings.Repeat("a", 600), strings.Repeat("a", 499) + ellipsis},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Fallback(tc.in); got != tc.want {
				t.Errorf("Fallback(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDates(t *testing.T) {
	at := time.Date(2026, 12, 4, 18, 0, 0, 0, time.FixedZone("CET", 3600))
	if got, want := fmtTime(at), "Fri 4 Dec 2026 17:00 UTC"; got != want {
		t.Errorf("fmtTime = %q, want %q", got, want)
	}
	if got, want := slackDate(at), "<!date^1796403600^{date_short_pretty} {time}|Fri 4 Dec 2026 17:00 UTC>"; got != want {
		t.Errorf("slackDate = %q, want %q", got, want)
	}
}

func TestMention(t *testing.T) {
	tests := []struct {
		name string
		p    Person
		want string
	}{
		{"slack id", Person{Name: "Alice", SlackID: "U0ALICE"}, "<@U0ALICE>"},
		{"enterprise id", Person{SlackID: "W012AB"}, "<@W012AB>"},
		{"injected id", Person{Name: "Eve", SlackID: "U1><!channel"}, "Eve"},
		{"lower-case id", Person{Name: "Eve", SlackID: "u123"}, "Eve"},
		{"name escaped", Person{Name: "<@U999>"}, "&lt;@U999&gt;"},
		{"email when no name", Person{Email: "a@x.com"}, "a@x.com"},
		{"nobody", Person{}, "someone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mention(tc.p, 60); got != tc.want {
				t.Errorf("mention = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRowParts(t *testing.T) {
	c := caps[detailFull]
	tests := []struct {
		name, got, want string
	}{
		{"direct", grantText([]string{"direct"}, c), "direct"},
		{"groups", grantText([]string{"group Engineering", "group aws-admins"}, c), "via group Engineering, aws-admins"},
		{"both", grantText([]string{"direct", "via group Eng"}, c), "direct and via group Eng"},
		{"many groups", grantText([]string{"group a", "group b", "group c", "group d", "group e"}, c), "via group a, b, c +2 more"},
		{"unknown kept", grantText([]string{"rule R&D"}, c), "rule R&amp;D"},
		{"signed in", signInText(Entitlement{LastSignIn: signIn}), "last sign-in 2026-11-02"},
		{"no sign-in", signInText(Entitlement{SignInWindowDays: 90}), "no sign-in in 90 days"},
		{"no window", signInText(Entitlement{}), "no sign-in recorded"},
		{"risk high", riskText("High"), ":red_circle: risk *high*"},
		{"risk none", riskText(""), ""},
		{"member answer", memberAnswerText(Entitlement{MemberAnswer: ValueRevoke, MemberComment: "left <team>"}, c), "Member answered *Not needed*: “left &lt;team&gt;”"},
		{"no member answer", memberAnswerText(Entitlement{}, c), "Member did not answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Salesforce", "Salesforce"},
		{"broadcast", "<!channel>", "&lt;!channel&gt;"},
		{"fake link", "<https://evil|Click here>", "&lt;https://evil|Click here&gt;"},
		{"ampersand first", "R&D &lt;", "R&amp;D &amp;lt;"},
		{"multi-line kept", "a\n<b>", "a\n&lt;b&gt;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
