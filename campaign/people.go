package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ResolveManagers sets each user's ManagerID from ManagerRef, which may hold
// the manager's Okta id, login or email (Okta's manager attributes are
// free-form), or, failing those, a display name that names exactly one
// user. A reference to the user themself counts as no manager. It returns
// how many non-empty references matched nobody.
func ResolveManagers(users []User) (unresolved int) {
	byID := make(map[string]int, len(users))
	byKey := make(map[string]int, 2*len(users))
	byName := make(map[string]int, len(users))
	for i := range users {
		u := &users[i]
		byID[u.ID] = i
		for _, k := range []string{u.Login, u.Email} {
			if k != "" {
				byKey[strings.ToLower(k)] = i
			}
		}
		name := strings.ToLower(u.DisplayName())
		if _, dup := byName[name]; dup {
			byName[name] = -1 // ambiguous: never resolve by it
		} else {
			byName[name] = i
		}
	}
	for i := range users {
		u := &users[i]
		u.ManagerID = ""
		ref := strings.TrimSpace(u.ManagerRef)
		if ref == "" {
			continue
		}
		j, ok := byID[ref]
		if !ok {
			j, ok = byKey[strings.ToLower(ref)]
		}
		if !ok {
			j, ok = byName[strings.ToLower(ref)]
			ok = ok && j >= 0
		}
		switch {
		case !ok:
			unresolved++
		case j != i:
			u.ManagerID = users[j].ID
		}
	}
	return unresolved
}

// HRRecord is one row of an HR export: it overrides Okta's manager and
// department for the user with that email, since HR data is usually the
// more accurate, and its status or termination date feed the leaver
// cross-check (CheckHR).
type HRRecord struct {
	Email        string
	ManagerEmail string
	Department   string
	// Status is the employment status as HR writes it (see Terminated).
	Status string
	// TerminationDate is the last day of employment, zero when none.
	TerminationDate time.Time
}

// hrColumns maps accepted header names to HRRecord fields.
var hrColumns = map[string]string{
	"email": "email", "user_email": "email", "employee_email": "email", "work_email": "email",
	"manager_email": "manager", "manager": "manager", "supervisor_email": "manager",
	"department": "department", "team": "department", "dept": "department",
	"status": "status", "employment_status": "status", "employee_status": "status",
	"termination_date": "termination", "terminated_on": "termination", "term_date": "termination",
}

// ReadHRCSV parses an HR CSV with a header row naming at least an email
// column (email) and one of manager_email, department/team, status or
// termination_date. status (or employment_status) is HR's employment
// status; termination_date (or terminated_on) a date as 2006-01-02 or
// RFC 3339. It returns an error naming the line of any malformed row.
func ReadHRCSV(r io.Reader) ([]HRRecord, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("hr csv: empty file; expected a header row such as email,manager_email,department")
	}
	if err != nil {
		return nil, fmt.Errorf("hr csv: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if f, ok := hrColumns[name]; ok {
			if _, dup := col[f]; !dup {
				col[f] = i
			}
		}
	}
	if _, ok := col["email"]; !ok {
		return nil, fmt.Errorf("hr csv: header %q has no email column; name it email", strings.Join(header, ","))
	}
	_, hasMgr := col["manager"]
	_, hasDept := col["department"]
	_, hasStatus := col["status"]
	_, hasTerm := col["termination"]
	if !hasMgr && !hasDept && !hasStatus && !hasTerm {
		return nil, errors.New("hr csv: header needs a manager_email, department (or team), status or termination_date column")
	}
	get := func(rec []string, f string) string {
		i, ok := col[f]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	var out []HRRecord
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("hr csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		email := get(rec, "email")
		if email == "" {
			if strings.TrimSpace(strings.Join(rec, "")) == "" {
				continue
			}
			return nil, fmt.Errorf("hr csv: line %d: email is empty", line)
		}
		if !strings.Contains(email, "@") {
			return nil, fmt.Errorf("hr csv: line %d: %q is not an email address", line, email)
		}
		r := HRRecord{Email: email, ManagerEmail: get(rec, "manager"), Department: get(rec, "department"), Status: get(rec, "status")}
		if d := get(rec, "termination"); d != "" {
			if r.TerminationDate, err = parseHRDate(d); err != nil {
				return nil, fmt.Errorf("hr csv: line %d: termination_date %q: write it as 2006-01-02", line, d)
			}
		}
		out = append(out, r)
	}
}

// ApplyHR overrides the manager reference and department of the users that
// HR knows, matched by email or login, case-insensitively. Empty HR fields
// leave Okta's value. It returns the emails that matched no user.
func ApplyHR(users []User, records []HRRecord) (unmatched []string) {
	idx := make(map[string]int, 2*len(users))
	for i := range users {
		for _, k := range []string{users[i].Login, users[i].Email} {
			if k != "" {
				idx[strings.ToLower(k)] = i
			}
		}
	}
	for _, r := range records {
		i, ok := idx[strings.ToLower(r.Email)]
		if !ok {
			unmatched = append(unmatched, r.Email)
			continue
		}
		if r.ManagerEmail != "" {
			users[i].ManagerRef = r.ManagerEmail
		}
		if r.Department != "" {
			users[i].Department = r.Department
		}
	}
	return unmatched
}

// parseHRDate reads a termination date: a day (2006-01-02, taken as the
// end of that day in UTC: the person works that day) or an RFC 3339 time.
func parseHRDate(s string) (time.Time, error) {
	if d, err := time.Parse("2006-01-02", s); err == nil {
		return d.Add(24*time.Hour - time.Second), nil
	}
	return time.Parse(time.RFC3339, s)
}
