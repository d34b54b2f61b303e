package campaign

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestResolveManagers(t *testing.T) {
	users := []User{
		{ID: "00uboss", Login: "boss@example.com", Email: "boss@example.com", FirstName: "Bea", LastName: "Boss"},
		{ID: "00ubyid", Login: "a@example.com", ManagerRef: "00uboss"},
		{ID: "00ubylogin", Login: "b@example.com", ManagerRef: "BOSS@example.com"},
		{ID: "00ubyemail", Login: "c.login", Email: "c@example.com", ManagerRef: "c@example.com"}, // self by email
		{ID: "00ualtmail", Login: "d@example.com", Email: "d@example.com", ManagerRef: "mgr-alt@example.com"},
		{ID: "00umgralt", Login: "mgr@corp.example.com", Email: "mgr-alt@example.com"},
		{ID: "00ubyname", Login: "e@example.com", ManagerRef: "Bea Boss"},
		{ID: "00udangling", Login: "f@example.com", ManagerRef: "00unobody"},
		{ID: "00unone", Login: "g@example.com"},
		{ID: "00uambig", Login: "h@example.com", ManagerRef: "Sam Same"},
		{ID: "00usame1", Login: "s1@example.com", FirstName: "Sam", LastName: "Same"},
		{ID: "00usame2", Login: "s2@example.com", FirstName: "Sam", LastName: "Same"},
	}
	unresolved := ResolveManagers(users)
	want := map[string]string{
		"00ubyid": "00uboss", "00ubylogin": "00uboss", "00ubyemail": "", "00ualtmail": "00umgralt",
		"00ubyname": "00uboss", "00udangling": "", "00unone": "", "00uambig": "", "00uboss": "",
	}
	for _, u := range users {
		if w, ok := want[u.ID]; ok && u.ManagerID != w {
			t.Errorf("%s: ManagerID = %q, want %q", u.ID, u.ManagerID, w)
		}
	}
	if unresolved != 2 { // the dangling id and the ambiguous name
		t.Errorf("unresolved = %d, want 2", unresolved)
	}
}

func TestReadHRCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []HRRecord
		wantErr string
	}{
		{name: "full", in: "email,manager_email,department\na@x.com,m@x.com,Sales\n",
			want: []HRRecord{{Email: "a@x.com", ManagerEmail: "m@x.com", Department: "Sales"}}},
		{name: "team alias and bom", in: "\ufeffEmail,Team\nb@x.com, Platform\n\n",
			want: []HRRecord{{Email: "b@x.com", Department: "Platform"}}},
		{name: "column order", in: "department,email\nOps,c@x.com\n", want: []HRRecord{{Email: "c@x.com", Department: "Ops"}}},
		{name: "empty", in: "", wantErr: "empty file"},
		{name: "no email column", in: "mail,manager_email\n", wantErr: "no email column"},
		{name: "nothing to override", in: "email\n", wantErr: "manager_email, department (or team), status or termination_date"},
		{name: "bad email", in: "email,department\nnot-an-email,Ops\n", wantErr: "line 2"},
		{name: "empty email", in: "email,department\n,Ops\n", wantErr: "email is empty"},
		{name: "status and termination date", in: "email,status,termination_date\nd@x.com,Terminated,2026-10-31\ne@x.com,active,\n",
			want: []HRRecord{{Email: "d@x.com", Status: "Terminated", TerminationDate: time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)},
				{Email: "e@x.com", Status: "active"}}},
		{name: "termination date alone", in: "email,terminated_on\nf@x.com,2026-11-02T17:00:00Z\n",
			want: []HRRecord{{Email: "f@x.com", TerminationDate: time.Date(2026, 11, 2, 17, 0, 0, 0, time.UTC)}}},
		{name: "bad termination date", in: "email,termination_date\ng@x.com,31/10/2026\n", wantErr: "line 2: termination_date \"31/10/2026\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadHRCSV(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestApplyHROverridesManagerAndDepartment(t *testing.T) {
	users := []User{
		{ID: "1", Login: "a@x.com", Email: "a@x.com", Department: "Okta Dept", ManagerRef: "00uwrong"},
		{ID: "2", Login: "m@x.com", Email: "m@x.com"},
		{ID: "3", Login: "keep@x.com", Department: "Kept", ManagerRef: "2"},
	}
	unmatched := ApplyHR(users, []HRRecord{
		{Email: "A@X.com", ManagerEmail: "m@x.com", Department: "HR Dept"},
		{Email: "keep@x.com"},
		{Email: "ghost@x.com", Department: "Nowhere"},
	})
	if !reflect.DeepEqual(unmatched, []string{"ghost@x.com"}) {
		t.Errorf("unmatched = %v", unmatched)
	}
	ResolveManagers(users)
	if users[0].ManagerID != "2" || users[0].Department != "HR Dept" {
		t.Errorf("user a = %+v, want manager 2 and department HR Dept", users[0])
	}
	if users[2].ManagerID != "2" || users[2].Department != "Kept" {
		t.Errorf("empty HR fields must keep Okta's values: %+v", users[2])
	}
}
