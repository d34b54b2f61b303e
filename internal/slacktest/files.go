package slacktest

// File uploads, in the three steps slack-go's UploadFile(Context) takes:
// files.getUploadURLExternal, a POST of the bytes to the returned URL, and
// files.completeUploadExternal, which shares the file in a channel.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxUpload bounds the bytes one upload may carry.
const maxUpload = 64 << 20

// Upload is a file the bot uploaded.
type Upload struct {
	FileID string
	Name   string // the filename given to files.getUploadURLExternal
	Title  string
	// Length is the length declared; Content the bytes actually posted.
	Length  int
	Content []byte
	// Uploaded is set once bytes were posted, Completed once
	// files.completeUploadExternal shared the file.
	Uploaded, Completed bool
	Channel             string // channel_id, or the first of channels
	ThreadTS            string
	InitialComment      string
}

// Uploads returns every upload started, in order, with its bytes.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Upload, len(s.st.uploads))
	for i, u := range s.st.uploads {
		out[i] = *u
		out[i].Content = bytes.Clone(u.Content)
	}
	return out
}

// upload finds an upload by file id.
func (st *state) upload(id string) *Upload {
	i := slices.IndexFunc(st.uploads, func(u *Upload) bool { return u.FileID == id })
	if i < 0 {
		return nil
	}
	return st.uploads[i]
}

// filesGetUploadURLExternal answers files.getUploadURLExternal with an
// upload URL on this server: slack-go only sends its token to https Slack
// hosts or to the API URL's host.
func (s *Server) filesGetUploadURLExternal(r *request) (map[string]any, *apiError) {
	name := r.str("filename")
	length, err := strconv.Atoi(r.str("length"))
	switch {
	case name == "":
		return nil, fail("invalid_arguments", "[ERROR] missing required field: filename")
	case err != nil || length <= 0:
		return nil, fail("invalid_arguments", "[ERROR] missing required field: length")
	}
	s.st.seq++
	id := fmt.Sprintf("F%010d", s.st.seq)
	s.st.uploads = append(s.st.uploads, &Upload{FileID: id, Name: name, Length: length})
	return map[string]any{"upload_url": s.URL() + "/upload/v1/" + id, "file_id": id}, nil
}

// serveUpload accepts the bytes of a file: a multipart form's file part,
// or the raw body. It answers "OK - <length>" as Slack does.
func (s *Server) serveUpload(w http.ResponseWriter, hr *http.Request) {
	if hr.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data, err := readUpload(hr)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.st.upload(hr.PathValue("file"))
	if u == nil || u.Completed {
		http.Error(w, "no such upload", http.StatusNotFound)
		return
	}
	u.Content, u.Uploaded = data, true
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "OK - %d", len(data))
}

// readUpload reads the uploaded bytes from a multipart form or the body.
func readUpload(hr *http.Request) ([]byte, error) {
	body := io.LimitReader(hr.Body, maxUpload)
	ct, params, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if !strings.HasPrefix(ct, "multipart/") {
		return io.ReadAll(body)
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("no file part in the form: %w", err)
		}
		if part.FileName() != "" || part.FormName() == "file" {
			return io.ReadAll(part)
		}
	}
}

// filesCompleteUploadExternal answers files.completeUploadExternal: every
// file must have been uploaded, and the channel, if any, must exist.
func (s *Server) filesCompleteUploadExternal(r *request) (map[string]any, *apiError) {
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.str("files")), &files); err != nil || len(files) == 0 {
		return nil, fail("invalid_arguments", "[ERROR] missing required field: files")
	}
	channel := r.str("channel_id")
	if channel == "" && r.str("channels") != "" {
		channel, _, _ = strings.Cut(r.str("channels"), ",")
	}
	if _, ok := s.st.channels[channel]; channel != "" && !ok {
		return nil, fail("channel_not_found")
	}
	for _, f := range files {
		if u := s.st.upload(f.ID); u == nil || !u.Uploaded || u.Completed {
			return nil, fail("file_not_found")
		}
	}
	out := make([]map[string]any, 0, len(files))
	for _, f := range files {
		u := s.st.upload(f.ID)
		u.Title = f.Title
		if u.Title == "" {
			u.Title = u.Name
		}
		u.Completed, u.Channel, u.ThreadTS = true, channel, r.str("thread_ts")
		u.InitialComment = r.str("initial_comment")
		out = append(out, map[string]any{"id": u.FileID, "title": u.Title})
	}
	return map[string]any{"files": out}, nil
}
