package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// VerifyOptions say what Verify may check beyond the files themselves.
type VerifyOptions struct {
	// AuditKey checks the manifest's HMAC and recomputes keyed audit
	// entries' hashes; without it those are reported as unchecked.
	AuditKey []byte
	// PublicKey, when set, is the only Ed25519 key whose signature counts
	// (the key the exporter published); otherwise the manifest's own key
	// is used, which proves the bundle unchanged since it was signed.
	PublicKey ed25519.PublicKey
	// AllowUnsigned accepts a manifest no signature of which was checked.
	AllowUnsigned bool
}

// Problem is one thing that does not verify, in one file.
type Problem struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	OK          bool      `json:"ok"`
	CampaignID  int64     `json:"campaign_id"`
	Files       int       `json:"files"`
	Signatures  []string  `json:"signatures"`
	Unchecked   []string  `json:"unchecked"`
	Audit       AuditStat `json:"audit"`
	AuditHead   ChainHead `json:"audit_chain_head"`
	Problems    []Problem `json:"problems"`
	checkedSigs int
}

// AuditStat counts what Verify checked of audit.jsonl.
type AuditStat struct {
	Entries    int `json:"entries"`
	Linked     int `json:"linked"`
	Recomputed int `json:"recomputed"`
	KeyedSkip  int `json:"keyed_not_recomputed"`
}

func (r *VerifyReport) problem(file, format string, a ...any) {
	r.Problems = append(r.Problems, Problem{File: file, Reason: fmt.Sprintf(format, a...)})
}

// Verify checks the bundle in dir with no database: the manifest's
// signatures; every file's size and SHA-256 against it, with no file
// missing or extra; each JSON file against its schema; the audit entries'
// own chain; and that every decision names an entry of audit.jsonl. Every
// problem found is in the report, naming its file. The error is for a
// directory that cannot be read.
func Verify(dir string, o VerifyOptions) (*VerifyReport, error) {
	r := &VerifyReport{Signatures: []string{}, Unchecked: []string{}, Problems: []Problem{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence: verify: %w", err)
	}
	body := r.checkManifest(dir, o)
	listed := map[string]FileEntry{}
	if body != nil {
		r.CampaignID, r.AuditHead = body.CampaignID, body.AuditChainHead
		for _, f := range body.Files {
			if _, dup := listed[f.Name]; dup || f.Name != filepath.Base(f.Name) || f.Name == FileManifest {
				r.problem(FileManifest, "lists %q twice, or as a path, or lists itself", f.Name)
			}
			listed[f.Name] = f
		}
	}
	seen := map[string]bool{FileManifest: true}
	for _, e := range entries {
		name := e.Name()
		if name == FileManifest {
			continue
		}
		seen[name] = true
		want, ok := listed[name]
		if !ok {
			if body != nil {
				r.problem(name, "is not in the manifest: a file was added")
			}
			continue
		}
		if !e.Type().IsRegular() {
			r.problem(name, "is not a regular file")
			continue
		}
		r.Files++
		r.checkFile(dir, want)
	}
	for _, name := range sortedKeys(listed) {
		if !seen[name] {
			r.problem(name, "is missing: the manifest lists it")
		}
	}
	if !seen[FileManifest] || body == nil {
		r.OK = false
		return r, nil
	}
	r.checkSchemas(dir)
	r.checkAudit(dir, o.AuditKey)
	sort.SliceStable(r.Problems, func(i, j int) bool { return r.Problems[i].File < r.Problems[j].File })
	r.OK = len(r.Problems) == 0
	return r, nil
}

// checkManifest reads and checks manifest.json, returning its signed body
// or nil when it cannot be read at all.
func (r *VerifyReport) checkManifest(dir string, o VerifyOptions) *ManifestBody {
	raw, err := os.ReadFile(filepath.Join(dir, FileManifest))
	if err != nil {
		r.problem(FileManifest, "cannot be read: %v", err)
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		r.problem(FileManifest, "is not valid JSON: %v", err)
		return nil
	}
	for k := range top {
		if k != "schema_version" && k != "signed" && k != "signatures" {
			r.problem(FileManifest, "has an unknown member %q", k)
		}
	}
	var m ManifestFile
	if err := strictJSON(raw, &m); err != nil {
		r.problem(FileManifest, "does not decode: %v", err)
		return nil
	}
	if m.SchemaVersion != SchemaVersion {
		r.problem(FileManifest, "schema_version %q, want %q", m.SchemaVersion, SchemaVersion)
	}
	var body ManifestBody
	if err := strictJSON(m.Signed, &body); err != nil {
		r.problem(FileManifest, "signed part does not decode: %v", err)
		return nil
	}
	for _, s := range m.Signatures {
		problem, checked := checkSignature(s, m.Signed, o.AuditKey, o.PublicKey)
		switch {
		case problem != "":
			r.problem(FileManifest, "%s", problem)
		case !checked:
			r.Unchecked = append(r.Unchecked, s.Algorithm+" (key id "+s.KeyID+"): give the audit key (--key or ATTEST_AUDIT_KEY) to check it")
		default:
			r.checkedSigs++
			name := s.Algorithm + " (key id " + s.KeyID + ")"
			if s.Algorithm == AlgEd25519 && o.PublicKey == nil {
				name += ", with the key in the manifest"
			}
			r.Signatures = append(r.Signatures, name)
		}
	}
	switch {
	case r.checkedSigs > 0:
	case o.PublicKey != nil:
		r.problem(FileManifest, "has no Ed25519 signature by the public key given")
	case len(m.Signatures) == 0 && !o.AllowUnsigned:
		r.problem(FileManifest, "is not signed: export with ATTEST_AUDIT_KEY or ATTEST_EVIDENCE_SIGNING_KEY set (or verify with --allow-unsigned)")
	case !o.AllowUnsigned:
		r.problem(FileManifest, "no signature could be checked: give the audit key (--key or ATTEST_AUDIT_KEY) or the public key")
	}
	return &body
}

// checkFile compares one file's size and SHA-256 with the manifest's.
func (r *VerifyReport) checkFile(dir string, want FileEntry) {
	f, err := os.Open(filepath.Join(dir, want.Name))
	if err != nil {
		r.problem(want.Name, "cannot be read: %v", err)
		return
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	switch {
	case err != nil:
		r.problem(want.Name, "cannot be read: %v", err)
	case n != want.Size:
		r.problem(want.Name, "is %d bytes, the manifest says %d: the file was changed", n, want.Size)
	case hex.EncodeToString(h.Sum(nil)) != want.SHA256:
		r.problem(want.Name, "SHA-256 does not match the manifest: the file was changed")
	}
}

// strictJSON decodes raw into v, refusing unknown fields and trailing
// data.
func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	if rest, _ := io.ReadAll(dec.Buffered()); len(bytes.TrimSpace(rest)) > 0 {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

// Summary is the report in a few lines for people.
func (r *VerifyReport) Summary() string {
	var b strings.Builder
	if r.OK {
		fmt.Fprintf(&b, "OK: campaign %d, %d files match the manifest\n", r.CampaignID, r.Files)
	} else {
		fmt.Fprintf(&b, "FAILED: %d problem(s)\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s: %s\n", p.File, p.Reason)
		}
	}
	for _, s := range r.Signatures {
		fmt.Fprintf(&b, "signature ok: %s\n", s)
	}
	for _, s := range r.Unchecked {
		fmt.Fprintf(&b, "not checked: %s\n", s)
	}
	fmt.Fprintf(&b, "audit entries: %d, links checked: %d, hashes recomputed: %d, keyed not recomputed: %d\n",
		r.Audit.Entries, r.Audit.Linked, r.Audit.Recomputed, r.Audit.KeyedSkip)
	fmt.Fprintf(&b, "audit chain head at export: entry %d %s (check the live log with `attest audit verify --expect-head %s`)\n",
		r.AuditHead.Seq, r.AuditHead.Hash, r.AuditHead.Hash)
	return b.String()
}
