package evidence

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 MST")
		case *time.Time:
			if v == nil {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 MST")
		}
		return fmt.Sprint(t)
	},
	"pct":  func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"secs": func(f float64) string { return fmt.Sprintf("%.1f s", f) },
	"hours": func(h float64) string {
		d := time.Duration(h * float64(time.Hour)).Round(time.Second)
		if d >= time.Hour && d%time.Hour == 0 {
			return fmt.Sprintf("%d h", d/time.Hour)
		}
		return d.String()
	},
	"join": strings.Join,
}).Parse(reportTemplate))

// reportRows caps the long tables of the report; the JSON files hold all.
const reportRows = 200

// chartBars caps the bar charts: the biggest teams and entitlements.
const chartBars = 25

// outcomeOrder and outcomeColor draw the stacked bars' segments.
var outcomeOrder = []string{"kept", "revoked", "revoked_by_member", "no_decision_kept", "no_decision_revoked", "open"}

var outcomeColor = map[string]string{"kept": "#2e7d32", "revoked": "#c62828", "revoked_by_member": "#ef6c00",
	"no_decision_kept": "#78909c", "no_decision_revoked": "#6d1b1b", "open": "#cfd8dc"}

// reportView is what the template reads.
type reportView struct {
	B          *Bundle
	Legend     []segment
	Overall    chart
	Teams      chart
	Apps       chart
	Reviewers  []ReviewerStats
	MoreRevs   int
	Timeline   timeline
	Exceptions []exception
	MoreExc    int
	HeadSeq    int64
	HeadHash   string
}

// chart is a horizontal stacked bar chart drawn in SVG.
type chart struct {
	ID     string
	Height int
	Bars   []bar
	More   int // bars left out
}

type bar struct {
	Name     string
	Cases    int
	Y        int
	Segments []segment
}

type segment struct {
	Outcome string
	Count   int
	X, W    float64
	Color   string
}

// chartOf draws groups (already sorted) as bars 600 units wide at most,
// scaled to the biggest.
func chartOf(id string, groups []GroupOutcomes) chart {
	c := chart{ID: id}
	if len(groups) > chartBars {
		c.More = len(groups) - chartBars
		groups = groups[:chartBars]
	}
	most := 1
	for _, g := range groups {
		most = max(most, g.Cases)
	}
	for i, g := range groups {
		b := bar{Name: g.Name, Cases: g.Cases, Y: i * 24}
		x := 0.0
		for _, o := range outcomeOrder {
			n := g.count(o)
			if n == 0 {
				continue
			}
			w := 600 * float64(n) / float64(most)
			b.Segments = append(b.Segments, segment{Outcome: o, Count: n, X: x, W: w, Color: outcomeColor[o]})
			x += w
		}
		c.Bars = append(c.Bars, b)
	}
	c.Height = len(c.Bars)*24 + 4
	return c
}

// count returns the count of outcome o.
func (o Outcomes) count(name string) int {
	switch name {
	case "kept":
		return o.Kept
	case "revoked":
		return o.Revoked
	case "revoked_by_member":
		return o.RevokedByMember
	case "no_decision_kept":
		return o.NoDecisionKept
	case "no_decision_revoked":
		return o.NoDecisionRevoked
	}
	return o.Open
}

// RenderReport writes report.html: one self-contained page (no script, no
// network: a Content-Security-Policy forbids any load) with the scope and
// population, outcomes by team and entitlement as inline SVG, reviewer
// analytics with their flags, the removal timeline, exceptions and the
// approvals. It returns the first write error.
func RenderReport(w io.Writer, b *Bundle) error {
	v := reportView{B: b, Overall: chartOf("overall", []GroupOutcomes{{Name: "All cases", Outcomes: b.Campaign.Outcomes}}),
		Teams: chartOf("team", b.Analytics.ByTeam), Apps: chartOf("entitlement", b.Analytics.ByEntitlement),
		HeadSeq: b.head.ID, HeadHash: b.head.Hash}
	for _, o := range outcomeOrder {
		v.Legend = append(v.Legend, segment{Outcome: o, Color: outcomeColor[o]})
	}
	v.Reviewers = b.Analytics.Reviewers
	if len(v.Reviewers) > reportRows {
		v.MoreRevs = len(v.Reviewers) - reportRows
		v.Reviewers = v.Reviewers[:reportRows]
	}
	v.Timeline = timelineOf(b.Operations)
	v.Exceptions = exceptionsOf(b)
	if len(v.Exceptions) > reportRows {
		v.MoreExc = len(v.Exceptions) - reportRows
		v.Exceptions = v.Exceptions[:reportRows]
	}
	return reportTmpl.Execute(w, v)
}

// exception is one item a person must look at: a plan item attest did not
// perform, or an operation that did not end as planned.
type exception struct {
	What, User, Target, Detail string
}

func exceptionsOf(b *Bundle) []exception {
	var out []exception
	for _, p := range b.Approvals.Plan {
		if p.Kind == "conflict" || p.Kind == "manual" {
			out = append(out, exception{What: "plan: " + p.Kind, User: p.UserID, Target: firstOf(p.GroupID, p.AppID), Detail: p.Reason})
		}
	}
	for _, o := range b.Operations.Operations {
		if o.State == "done" && o.ReadBack != "came_back" && (o.Result == "removed" || o.Result == "already_gone") {
			continue
		}
		d := strings.TrimSpace(strings.Join([]string{o.Result, o.ErrorCode, o.Error}, " "))
		if o.ReadBack == "came_back" {
			d += " — read-back: the access came back"
		}
		out = append(out, exception{What: "operation " + o.State, User: o.UserID, Target: firstOf(o.Group, o.GroupID, o.App, o.AppID), Detail: d})
	}
	for _, o := range b.Operations.Operations {
		if o.Late {
			out = append(out, exception{What: "removal late", User: o.UserID, Target: firstOf(o.Group, o.GroupID, o.App, o.AppID),
				Detail: fmt.Sprintf("deadline %s, finished %s", fmtTime(o.Deadline), fmtTime(o.FinishedAt))})
		}
	}
	for _, l := range b.Analytics.Leavers.Items {
		out = append(out, exception{What: "leaver: access " + l.Outcome, User: firstOf(l.UserEmail, l.UserID), Target: l.Entitlement,
			Detail: "user is " + l.UserStatus + " in Okta (" + strings.Join(l.Reasons, ", ") + "); removal: " + firstOf(l.Removal, "none")})
	}
	return out
}

// fmtTime formats a time for the report, "—" when unknown.
func fmtTime(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

// timeline is the removals' progress after approval, as a histogram.
type timeline struct {
	ApprovedAt     *time.Time
	DeadlineHours  float64
	Late           int
	First, Last    *time.Time
	Total, Done    int
	Results        []kv
	ReadBack       []kv
	Buckets        []tbucket
	BucketMinutes  float64
	MaxBucketCount int
}

type kv struct {
	Key   string
	Count int
}

type tbucket struct {
	X, Y, H float64
	Count   int
	Label   string
}

// timelineOf buckets the finished operations by time since approval into
// at most 24 columns.
func timelineOf(f OperationsFile) timeline {
	t := timeline{ApprovedAt: f.ApprovedAt, Total: len(f.Operations), DeadlineHours: f.DeadlineHours, Late: f.Late}
	results, reads := map[string]int{}, map[string]int{}
	var times []time.Time
	for _, o := range f.Operations {
		results[firstOf(o.Result, o.State)]++
		if o.ReadBack != "" {
			reads[o.ReadBack]++
		}
		if o.FinishedAt != nil {
			t.Done++
			times = append(times, *o.FinishedAt)
		}
	}
	for _, k := range sortedKeys(results) {
		t.Results = append(t.Results, kv{k, results[k]})
	}
	for _, k := range sortedKeys(reads) {
		t.ReadBack = append(t.ReadBack, kv{k, reads[k]})
	}
	if len(times) == 0 {
		return t
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	start := times[0]
	if t.ApprovedAt != nil && t.ApprovedAt.Before(start) {
		start = *t.ApprovedAt
	}
	t.First, t.Last = &times[0], &times[len(times)-1]
	span := t.Last.Sub(start)
	const n = 24
	width := max(span/n+1, time.Minute)
	t.BucketMinutes = width.Minutes()
	counts := make([]int, n)
	for _, x := range times {
		i := min(int(x.Sub(start)/width), n-1)
		counts[i]++
	}
	for _, c := range counts {
		t.MaxBucketCount = max(t.MaxBucketCount, c)
	}
	for i, c := range counts {
		h := 100 * float64(c) / float64(t.MaxBucketCount)
		t.Buckets = append(t.Buckets, tbucket{X: float64(i) * 25, Y: 100 - h, H: h, Count: c,
			Label: fmt.Sprintf("%s after approval: %d", (time.Duration(i) * width).Round(time.Second), c)})
	}
	return t
}
