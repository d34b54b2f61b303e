package snowtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
)

// table is one Table API table: its records by sys_id and in creation
// order, the number prefix and counter, and the rules a change must pass.
type table struct {
	prefix string
	next   int
	rows   map[string]map[string]string
	order  []string
	rules  func(old, merged map[string]string) (msg, detail string)
}

func newTable(prefix string, rules func(old, merged map[string]string) (string, string)) *table {
	return &table{prefix: prefix, next: 10001, rows: map[string]map[string]string{}, rules: rules}
}

// referenceFields are the reference fields the fake renders as
// {"link","value"} unless sysparm_exclude_reference_link=true.
var referenceFields = map[string]string{
	"caller_id": "sys_user", "assigned_to": "sys_user", "opened_by": "sys_user",
	"assignment_group": "sys_user_group",
}

// incidentRules holds the incident's state model: 1 New, 2 In Progress,
// 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled. Resolving needs a close
// code and notes; a closed incident takes no more changes.
func incidentRules(old, merged map[string]string) (string, string) {
	switch merged["state"] {
	case "1", "2", "3", "6", "7", "8":
	default:
		return "Invalid state", fmt.Sprintf("%q is not a state of incident", merged["state"])
	}
	if old != nil && old["state"] == "7" {
		return "Operation Failed", "A closed incident cannot be changed"
	}
	if s := merged["state"]; (s == "6" || s == "7") && (merged["close_code"] == "" || merged["close_notes"] == "") {
		return "Data Policy Exception: The following fields are mandatory: Resolution code, Resolution notes",
			"Data Policy Exception: Resolution code and Resolution notes are mandatory when the incident is Resolved or Closed"
	}
	return "", ""
}

// taskRules holds sc_task's states: -5 Pending, 1 Open, 2 Work in
// Progress, 3 Closed Complete, 4 Closed Incomplete, 7 Closed Skipped.
func taskRules(_, merged map[string]string) (string, string) {
	switch merged["state"] {
	case "-5", "1", "2", "3", "4", "7":
		return "", ""
	}
	return "Invalid state", fmt.Sprintf("%q is not a state of sc_task", merged["state"])
}

// tableAPI serves /api/now/table/{table}[/{sys_id}]; rest is the part
// after /api/now/table/.
func (s *Server) tableAPI(w http.ResponseWriter, r *http.Request, rest string) {
	name, sysID, _ := strings.Cut(rest, "/")
	t := s.tables[name]
	if t == nil {
		writeError(w, http.StatusBadRequest, "Invalid table "+name, "")
		return
	}
	links := r.URL.Query().Get("sysparm_exclude_reference_link") != "true"
	switch {
	case sysID == "" && r.Method == http.MethodPost:
		fields, ok := readFields(w, r)
		if !ok {
			return
		}
		now := s.now().UTC().Format("2006-01-02 15:04:05")
		row := map[string]string{"state": "1", "active": "true", "sys_created_by": Username, "opened_at": now}
		maps.Copy(row, fields)
		if msg, detail := t.rules(nil, row); msg != "" {
			writeError(w, http.StatusBadRequest, msg, detail)
			return
		}
		row["sys_id"] = randomHex(16)
		row["number"] = fmt.Sprintf("%s%07d", t.prefix, t.next)
		row["sys_created_on"], row["sys_updated_on"], row["sys_mod_count"] = now, now, "0"
		t.next++
		t.rows[row["sys_id"]] = row
		t.order = append(t.order, row["sys_id"])
		writeJSON(w, http.StatusCreated, map[string]any{"result": s.render(row, links)})
	case sysID == "" && r.Method == http.MethodGet:
		s.list(w, r, t, links)
	case sysID != "" && (r.Method == http.MethodGet || r.Method == http.MethodPatch || r.Method == http.MethodPut):
		row := t.rows[sysID]
		if row == nil {
			writeError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
			return
		}
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, map[string]any{"result": s.render(row, links)})
			return
		}
		fields, ok := readFields(w, r)
		if !ok {
			return
		}
		merged := clone(row)
		maps.Copy(merged, fields)
		if msg, detail := t.rules(row, merged); msg != "" {
			writeError(w, http.StatusBadRequest, msg, detail)
			return
		}
		merged["sys_id"], merged["number"] = row["sys_id"], row["number"]
		merged["sys_updated_on"] = s.now().UTC().Format("2006-01-02 15:04:05")
		n, _ := strconv.Atoi(row["sys_mod_count"])
		merged["sys_mod_count"] = strconv.Itoa(n + 1)
		t.rows[sysID] = merged
		writeJSON(w, http.StatusOK, map[string]any{"result": s.render(merged, links)})
	default:
		writeError(w, http.StatusMethodNotAllowed, "Method not Supported", r.Method+" is not supported here")
	}
}

// list answers GET on a table, filtered by the equality conditions of
// sysparm_query ("a=b^c=d"; ORDERBY terms are ignored, records come in
// creation order) and cut to sysparm_limit.
func (s *Server) list(w http.ResponseWriter, r *http.Request, t *table, links bool) {
	q := r.URL.Query()
	var conds [][2]string
	for _, term := range strings.Split(q.Get("sysparm_query"), "^") {
		if term == "" || strings.HasPrefix(term, "ORDERBY") {
			continue
		}
		k, v, ok := strings.Cut(term, "=")
		if !ok {
			writeError(w, http.StatusBadRequest, "Unsupported query term", term)
			return
		}
		conds = append(conds, [2]string{k, v})
	}
	limit, err := strconv.Atoi(q.Get("sysparm_limit"))
	if err != nil || limit <= 0 {
		limit = 10000
	}
	out := []map[string]any{}
	for _, id := range t.order {
		row := t.rows[id]
		match := true
		for _, c := range conds {
			match = match && row[c[0]] == c[1]
		}
		if match && len(out) < limit {
			out = append(out, s.render(row, links))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
}

// render turns a record into its JSON shape: strings, and reference
// fields as {"link","value"} when links is true.
func (s *Server) render(row map[string]string, links bool) map[string]any {
	out := make(map[string]any, len(row))
	for k, v := range row {
		if target, ok := referenceFields[k]; ok && links && v != "" {
			out[k] = map[string]string{"link": s.URL() + "/api/now/table/" + target + "/" + v, "value": v}
			continue
		}
		out[k] = v
	}
	return out
}

// readFields reads a JSON object body; numbers and booleans become
// strings, as ServiceNow stores them.
func readFields(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	var raw map[string]any
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		writeError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON")
		return nil, false
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case nil:
			out[k] = ""
		case float64, bool:
			out[k] = fmt.Sprint(v)
		default:
			writeError(w, http.StatusBadRequest, "Exception while reading request", "Field "+k+" must be a string")
			return nil, false
		}
	}
	return out, true
}

// writeError answers as ServiceNow does: {"error":{...},"status":"failure"}.
func writeError(w http.ResponseWriter, status int, msg, detail string) {
	writeJSON(w, status, map[string]any{
		"error":  map[string]string{"message": msg, "detail": detail},
		"status": "failure",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func clone(m map[string]string) map[string]string { return maps.Clone(m) }
