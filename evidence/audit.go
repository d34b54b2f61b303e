package evidence

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/attestbot/attest/store"
)

// chainColumns are the audit log's hashed columns after the id, in the
// order store/audit_chain.go encodes them; Collect refuses a store that
// hashes others.
var chainColumns = []string{"at", "campaign_id", "case_id", "type", "actor", "actor_id", "actor_via",
	"slack_user", "slack_team", "detail", "payload_sha256", "action_ts", "prev_hash"}

// typeColumn is the index of the event type among chainColumns.
var typeColumn = slices.Index(chainColumns, "type")

// auditLines turns the campaign's entries and the chain's head into
// audit.jsonl's lines: the entries in id order, then the head.
func auditLines(entries []store.AuditEntry, head store.AuditHead) []AuditLine {
	out := make([]AuditLine, 0, len(entries)+1)
	for _, e := range entries {
		f := make(map[string]string, len(chainColumns))
		for i, name := range chainColumns {
			f[name] = e.Fields[i]
		}
		out = append(out, AuditLine{Record: "entry", Seq: e.ID, Fields: f, Hash: e.Hash, Keyed: e.Keyed})
	}
	return append(out, AuditLine{Record: "head", Seq: head.ID, Hash: head.Hash, Keyed: head.Keyed, KeyedFrom: head.KeyedFrom})
}

// entryView is an audit entry's columns decoded for reading.
type entryView struct {
	ref    AuditRef
	at     time.Time
	caseID int64
	typ    string
	actor  string
	id     string
	via    string
	slackU string
	slackT string
	detail map[string]any
	ts     string
	sha    string
}

func viewOf(e store.AuditEntry) entryView {
	col := func(name string) string {
		for i, n := range chainColumns {
			if n == name {
				return e.Fields[i]
			}
		}
		return ""
	}
	v := entryView{ref: AuditRef{AuditSeq: e.ID, AuditHash: e.Hash}, typ: col("type"), actor: col("actor"), id: col("actor_id"),
		via: col("actor_via"), slackU: col("slack_user"), slackT: col("slack_team"), ts: col("action_ts"), sha: col("payload_sha256")}
	v.at, _ = time.Parse(time.RFC3339Nano, col("at"))
	v.at = v.at.UTC()
	v.caseID, _ = strconv.ParseInt(col("case_id"), 10, 64)
	_ = json.Unmarshal([]byte(col("detail")), &v.detail)
	return v
}

func (v entryView) str(k string) string {
	s, _ := v.detail[k].(string)
	return s
}

func (v entryView) num(k string) int {
	f, _ := v.detail[k].(float64)
	return int(f)
}

// decisionsOf reads the answers, escalations and delegations out of the
// campaign's audit entries, so each is tied to the chain by seq and hash.
func decisionsOf(campaignID int64, entries []store.AuditEntry) DecisionsFile {
	d := DecisionsFile{SchemaVersion: SchemaVersion, CampaignID: campaignID,
		Decisions: []Decision{}, Escalations: []Escalation{}, Delegations: []Delegation{}}
	for _, e := range entries {
		v := viewOf(e)
		switch v.typ {
		case "case.answered":
			bulk, _ := v.detail["bulk"].(bool)
			d.Decisions = append(d.Decisions, Decision{AuditRef: v.ref, At: v.at, CaseID: v.caseID, Stage: v.str("stage"),
				Decision: v.str("decision"), Previous: v.str("previous"), Comment: v.str("comment"), Bulk: bulk,
				AcceptUntil: v.str("accept_until"), ActorEmail: v.actor, ActorID: v.id, Via: v.via, SlackUserID: v.slackU,
				SlackTeamID: v.slackT, SlackActionTS: v.ts, PayloadSHA256: v.sha})
		case "case.escalated":
			d.Escalations = append(d.Escalations, Escalation{AuditRef: v.ref, At: v.at, CaseID: v.caseID,
				From: v.str("from"), To: v.str("to"), Level: v.num("level")})
		case "review.delegated":
			d.Delegations = append(d.Delegations, Delegation{AuditRef: v.ref, At: v.at, By: v.actor, ByID: v.id,
				Member: v.str("member"), To: v.str("to"), Cases: v.num("cases")})
		}
	}
	return d
}
