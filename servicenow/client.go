// Package servicenow files and updates tickets through ServiceNow's Table
// API (incident, sc_task) and keeps a durable queue of ticket jobs, so that
// ServiceNow being slow or down never holds a campaign up.
package servicenow

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Ticket is a Table API record as attest sees it.
type Ticket struct {
	SysID  string // 32 hex characters
	Number string // e.g. INC0010001, SCTASK0010001
	State  string // the record's state choice value, e.g. "1", "6"
	// Fields holds every field of the record, values as strings.
	Fields map[string]string
}

// Ticketer creates and updates records in a table. *Client implements it.
type Ticketer interface {
	// Create inserts a record and returns it; errors wrap ErrTransient
	// when retrying may help.
	Create(ctx context.Context, table string, fields map[string]string) (Ticket, error)
	// Update changes fields of a record; ErrNotFound when it is gone.
	Update(ctx context.Context, table, sysID string, fields map[string]string) (Ticket, error)
}

// Finder looks a record up by the value of one field. The queue uses it,
// when the client has it, to find a create that reached ServiceNow before
// its answer was lost, instead of creating the record twice.
type Finder interface {
	// Find returns the first record whose field equals value, or an error
	// wrapping ErrNotFound.
	Find(ctx context.Context, table, field, value string) (Ticket, error)
}

var (
	_ Ticketer = (*Client)(nil)
	_ Finder   = (*Client)(nil)
)

// Options configure a Client. BaseURL and either Username and Password or
// ClientID and ClientSecret are required.
type Options struct {
	BaseURL  string // https://acme.service-now.com; http:// only on a loopback host
	Username string // basic auth user
	Password string // basic auth password; never logged or put in an error
	// ClientID and ClientSecret select OAuth client credentials instead of
	// basic auth: a bearer token from {BaseURL}/oauth_token.do, reused
	// until shortly before it expires.
	ClientID     string
	ClientSecret string
	// HTTPClient sends requests; nil means a fresh http.Client.
	HTTPClient *http.Client
	// Timeout bounds one request, answer included (default 30 s).
	Timeout time.Duration
	// Now is the clock for token expiry and Retry-After dates (default time.Now).
	Now func() time.Time
}

// Client calls the Table API of one instance. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	hc      *http.Client
	timeout time.Duration
	now     func() time.Time
	auth    authenticator
	secrets []string
}

// New builds a Client. It fails when the base URL is not an https:// URL
// (http:// is allowed only on a loopback host), carries credentials or a
// query, or when no complete set of credentials is given. Its errors never
// contain a secret.
func New(o Options) (*Client, error) {
	base, err := parseBase(o.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, hc: o.HTTPClient, timeout: o.Timeout, now: o.Now}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case o.ClientID != "" || o.ClientSecret != "":
		if o.ClientID == "" || o.ClientSecret == "" {
			return nil, errors.New("servicenow: OAuth needs both a client id and a client secret")
		}
		c.auth = &oauth{c: c, id: o.ClientID, secret: o.ClientSecret}
		c.secrets = append(c.secrets, o.ClientSecret, url.QueryEscape(o.ClientSecret))
	case o.Username != "" && o.Password != "":
		c.auth = basic{user: o.Username, pass: o.Password}
		// The Authorization header carries the password in base64.
		c.secrets = append(c.secrets, base64.StdEncoding.EncodeToString([]byte(o.Username+":"+o.Password)), o.Password)
	default:
		return nil, errors.New("servicenow: no credentials; set a username and password, or an OAuth client id and secret")
	}
	return c, nil
}

func parseBase(raw string) (*url.URL, error) {
	s := strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, errors.New("servicenow: base URL is not a URL like https://acme.service-now.com")
	}
	if u.User != nil {
		return nil, errors.New("servicenow: base URL must not carry credentials; pass them as options")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("servicenow: base URL must not have a query or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return nil, fmt.Errorf("servicenow: base URL %s uses http:// on a non-loopback host; use https://", u.String())
		}
	default:
		return nil, fmt.Errorf("servicenow: base URL %s must start with https://", u.String())
	}
	return u, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Create inserts a record into table and returns it as stored. It expects
// 201 Created; any other answer is an *Error (see kindOf).
func (c *Client) Create(ctx context.Context, table string, fields map[string]string) (Ticket, error) {
	op := "create " + table
	if err := checkName(op, table); err != nil {
		return Ticket{}, err
	}
	return c.record(ctx, op, http.MethodPost, c.tableURL(table, ""), fields, http.StatusCreated)
}

// Update changes fields of the record sysID in table (PATCH) and returns
// the record as stored; ErrNotFound when it does not exist.
func (c *Client) Update(ctx context.Context, table, sysID string, fields map[string]string) (Ticket, error) {
	op := "update " + table + " " + sysID
	if err := checkName(op, table, sysID); err != nil {
		return Ticket{}, err
	}
	return c.record(ctx, op, http.MethodPatch, c.tableURL(table, sysID), fields, http.StatusOK)
}

// Get reads the record sysID of table; ErrNotFound when it does not exist.
func (c *Client) Get(ctx context.Context, table, sysID string) (Ticket, error) {
	op := "get " + table + " " + sysID
	if err := checkName(op, table, sysID); err != nil {
		return Ticket{}, err
	}
	return c.record(ctx, op, http.MethodGet, c.tableURL(table, sysID), nil, http.StatusOK)
}

// Find returns the first record of table (oldest first) whose field equals
// value, or an error wrapping ErrNotFound when there is none.
func (c *Client) Find(ctx context.Context, table, field, value string) (Ticket, error) {
	op := "find " + table + " " + field
	if err := checkName(op, table, field); err != nil {
		return Ticket{}, err
	}
	if strings.ContainsAny(value, "^\n") {
		return Ticket{}, fmt.Errorf("servicenow: %s: value must not contain ^ or a newline: %w", op, ErrInvalid)
	}
	u := c.tableURL(table, "")
	q := u.Query()
	q.Set("sysparm_query", field+"="+value+"^ORDERBYsys_created_on")
	q.Set("sysparm_limit", "1")
	u.RawQuery = q.Encode()
	body, err := c.send(ctx, op, http.MethodGet, u, nil, http.StatusOK)
	if err != nil {
		return Ticket{}, err
	}
	var env struct {
		Result []map[string]json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Ticket{}, fmt.Errorf("servicenow: %s: malformed answer: %v", op, err)
	}
	// An instance ignores a condition on a field the table lacks and
	// returns any record: only an exact match counts.
	if len(env.Result) == 0 || toTicket(env.Result[0]).Fields[field] != value {
		return Ticket{}, fmt.Errorf("servicenow: %s: no record with %s=%s: %w", op, field, value, ErrNotFound)
	}
	return toTicket(env.Result[0]), nil
}

// checkName refuses path segments that would change the URL's meaning.
func checkName(op string, names ...string) error {
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, "/?#%. ") {
			return fmt.Errorf("servicenow: %s: %q is not a table, field or sys_id: %w", op, n, ErrInvalid)
		}
	}
	return nil
}

func (c *Client) tableURL(table, sysID string) *url.URL {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/api/now/table/" + table
	if sysID != "" {
		u.Path += "/" + sysID
	}
	u.RawQuery = "sysparm_exclude_reference_link=true"
	return &u
}

// record sends one request whose answer is {"result":{...}}.
func (c *Client) record(ctx context.Context, op, method string, u *url.URL, fields map[string]string, want int) (Ticket, error) {
	var payload []byte
	if fields != nil {
		var err error
		if payload, err = json.Marshal(fields); err != nil {
			return Ticket{}, fmt.Errorf("servicenow: %s: %w", op, err)
		}
	}
	body, err := c.send(ctx, op, method, u, payload, want)
	if err != nil {
		return Ticket{}, err
	}
	var env struct {
		Result map[string]json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Result == nil {
		return Ticket{}, fmt.Errorf("servicenow: %s: answer has no result object", op)
	}
	t := toTicket(env.Result)
	if t.SysID == "" {
		return Ticket{}, fmt.Errorf("servicenow: %s: answer has no sys_id", op)
	}
	return t, nil
}

// send performs one authenticated request and returns the body of an
// answer with status want; every other outcome is an error free of
// secrets, an *Error when ServiceNow answered. A bearer token refused
// with 401 is dropped and the request sent once more with a new one: a
// 401 proves the request did nothing.
func (c *Client) send(ctx context.Context, op, method string, u *url.URL, payload []byte, want int) ([]byte, error) {
	body, err := c.sendOnce(ctx, op, method, u, payload, want)
	var e *Error
	if errors.As(err, &e) && e.Op == op && e.Status == http.StatusUnauthorized && c.auth.renewable() {
		body, err = c.sendOnce(ctx, op, method, u, payload, want)
	}
	return body, err
}

func (c *Client) sendOnce(ctx context.Context, op, method string, u *url.URL, payload []byte, want int) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(rctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("servicenow: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.auth.authorize(rctx, req); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err == nil {
		defer resp.Body.Close()
		var body []byte
		if body, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20)); err == nil {
			if resp.StatusCode == http.StatusUnauthorized {
				c.auth.invalidate()
			}
			if resp.StatusCode != want {
				return nil, apiError(op, resp, body, c.now(), c.clean)
			}
			return body, nil
		}
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("servicenow: %s: %w", op, ctx.Err())
	}
	return nil, transportError(op, c.clean(describe(err)))
}

// clean removes every credential from text meant for an error, in case
// ServiceNow or a proxy echoed one back.
func (c *Client) clean(text string) string {
	for _, s := range append(c.secrets, c.auth.token()) {
		if s != "" {
			text = strings.ReplaceAll(text, s, "<secret>")
		}
	}
	return text
}

// toTicket turns a result object into a Ticket: strings are kept,
// reference objects give their value, anything else its JSON text.
func toTicket(raw map[string]json.RawMessage) Ticket {
	f := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			f[k] = s
			continue
		}
		var ref struct {
			Value *string `json:"value"`
		}
		if json.Unmarshal(v, &ref) == nil && ref.Value != nil {
			f[k] = *ref.Value
			continue
		}
		if string(v) != "null" {
			f[k] = string(v)
		}
	}
	return Ticket{SysID: f["sys_id"], Number: f["number"], State: f["state"], Fields: f}
}
