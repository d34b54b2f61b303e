package slacktest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func TestUploadFile(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	_, ts, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("report follows", false))
	if err != nil {
		t.Fatal(err)
	}
	csv := "user,decision\nU1,keep\nU2,revoke\n"

	tests := []struct {
		name    string
		params  slack.UploadFileParameters
		want    string
		wantErr string
	}{
		{"content into a thread", slack.UploadFileParameters{
			Filename: "review.csv", FileSize: len(csv), Content: csv, Channel: "C1", ThreadTimestamp: ts, Title: "Review",
		}, csv, ""},
		{"reader", slack.UploadFileParameters{
			Filename: "r.csv", FileSize: 3, Reader: strings.NewReader("a,b"), Channel: "C1",
		}, "a,b", ""},
		{"unknown channel", slack.UploadFileParameters{
			Filename: "x.csv", FileSize: 1, Content: "x", Channel: "C404",
		}, "", "channel_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Uploads())
			f, err := api.UploadFileContext(c, tt.params)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ups := s.Uploads()
			if len(ups) != before+1 {
				t.Fatalf("%d uploads, want %d", len(ups), before+1)
			}
			u := ups[len(ups)-1]
			if u.FileID != f.ID || !u.Completed || u.Channel != tt.params.Channel || u.ThreadTS != tt.params.ThreadTimestamp ||
				u.Name != tt.params.Filename || !bytes.Equal(u.Content, []byte(tt.want)) || u.Length != tt.params.FileSize {
				t.Errorf("upload %+v", u)
			}
		})
	}
	methods := []string{"files.getUploadURLExternal", "files.completeUploadExternal"}
	for _, m := range methods {
		if n := len(s.Calls(m)); n != 3 {
			t.Errorf("%d %s calls, want 3", n, m)
		}
	}
}

func TestUploadChecks(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	u, err := api.GetUploadURLExternalContext(c, slack.GetUploadURLExternalParameters{FileName: "a.txt", FileSize: 2})
	if err != nil || !strings.HasPrefix(u.UploadURL, s.URL()+"/upload/v1/") {
		t.Fatalf("upload URL %+v: %v", u, err)
	}
	_, err = api.CompleteUploadExternalContext(c, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: u.FileID}}, Channel: "C1",
	})
	if got := slackErr(t, err); got != "file_not_found" {
		t.Errorf("completing before the bytes came: %q", got)
	}
	resp, err := http.Post(u.UploadURL, "application/octet-stream", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("raw upload: %s", resp.Status)
	}
	if _, err := api.CompleteUploadExternalContext(c, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: u.FileID}}, Channel: "C1",
	}); err != nil {
		t.Fatal(err)
	}
	if ups := s.Uploads(); len(ups) != 1 || string(ups[0].Content) != "hi" || ups[0].Title != "a.txt" {
		t.Errorf("uploads: %+v", ups)
	}
	resp, err = http.Post(s.URL()+"/upload/v1/F404", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("upload to an unknown file: %s", resp.Status)
	}
}

// postForm calls a Web API method with a form and returns its answer.
func postForm(t *testing.T, s *Server, method string, form url.Values) (ok bool, slackError string) {
	t.Helper()
	form.Set("token", BotToken)
	resp, err := http.PostForm(s.APIURL()+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.OK, out.Error
}

func TestUploadArguments(t *testing.T) {
	s, _ := start(t)
	tests := []struct {
		name   string
		method string
		form   url.Values
		want   string
	}{
		{"no filename", "files.getUploadURLExternal", url.Values{"length": {"3"}}, "invalid_arguments"},
		{"no length", "files.getUploadURLExternal", url.Values{"filename": {"a.csv"}}, "invalid_arguments"},
		{"zero length", "files.getUploadURLExternal", url.Values{"filename": {"a.csv"}, "length": {"0"}}, "invalid_arguments"},
		{"valid", "files.getUploadURLExternal", url.Values{"filename": {"a.csv"}, "length": {"3"}}, ""},
		{"complete without files", "files.completeUploadExternal", url.Values{"channel_id": {"C1"}}, "invalid_arguments"},
		{"complete an unknown file", "files.completeUploadExternal", url.Values{"files": {`[{"id":"F404"}]`}}, "file_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, got := postForm(t, s, tt.method, tt.form)
			if got != tt.want || ok != (tt.want == "") {
				t.Errorf("ok %v error %q, want %q", ok, got, tt.want)
			}
		})
	}
}

func TestMultipartUpload(t *testing.T) {
	s, _ := start(t)
	ok, _ := postForm(t, s, "files.getUploadURLExternal", url.Values{"filename": {"a.csv"}, "length": {"5"}})
	ups := s.Uploads()
	if !ok || len(ups) != 1 {
		t.Fatalf("uploads %+v", ups)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("file", "a.csv")
	_, _ = fw.Write([]byte("a,b,c"))
	_ = mw.Close()
	resp, err := http.Post(s.URL()+"/upload/v1/"+ups[0].FileID, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(answer) != "OK - 5" {
		t.Errorf("answer %s %q", resp.Status, answer)
	}
	if ups := s.Uploads(); string(ups[0].Content) != "a,b,c" || !ups[0].Uploaded || ups[0].Completed {
		t.Errorf("upload %+v", ups[0])
	}
}
