package evidence

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Export collects campaign id's evidence from src and writes the bundle
// into dir, which must be empty or not exist: the manifest lists every
// file, so nothing else may sit beside them. It returns the manifest's
// signed body. It returns an error wrapping campaign.ErrNotFound for an
// unknown campaign, one naming dir when it holds files, or the first
// failed read or write; a failed export may leave files behind, which
// verification then rejects (no manifest).
func Export(ctx context.Context, src Source, id int64, dir string, o Options) (*ManifestBody, error) {
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	b, err := Collect(ctx, src, id, o)
	if err != nil {
		return nil, err
	}
	return b.Write(dir, o)
}

// emptyDir creates dir, or checks that it holds nothing.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("evidence: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("evidence: %s is not empty (%s, …): write a bundle into a new or empty directory", dir, entries[0].Name())
	}
	return nil
}

// Write writes the collected bundle into dir and signs its manifest with
// o's keys. It returns the manifest's signed body, or the first failed
// write.
func (b *Bundle) Write(dir string, o Options) (*ManifestBody, error) {
	body := &ManifestBody{SchemaVersion: SchemaVersion, Generator: o.Generator, GeneratedAt: b.Campaign.GeneratedAt,
		CampaignID: b.Campaign.Campaign.ID, AuditChainHead: ChainHead{Seq: b.head.ID, Hash: b.head.Hash, Keyed: b.head.Keyed,
			KeyedFrom: b.head.KeyedFrom}}
	if body.Generator == "" {
		body.Generator = "attest"
	}
	writers := map[string]func(io.Writer) error{
		FileCampaign:   jsonOf(b.Campaign),
		FilePopulation: jsonOf(b.Population),
		FileCases:      compactJSON(b.Cases),
		FileCasesCSV:   func(w io.Writer) error { return writeCasesCSV(w, b.Cases.Cases) },
		FileDecisions:  compactJSON(b.Decisions),
		FileAnalytics:  jsonOf(b.Analytics),
		FileApprovals:  compactJSON(b.Approvals),
		FileOperations: jsonOf(b.Operations),
		FileTickets:    jsonOf(b.Tickets),
		FileAudit:      func(w io.Writer) error { return writeJSONL(w, b.Audit) },
		FileReport:     func(w io.Writer) error { return RenderReport(w, b) },
	}
	for _, name := range Files {
		fe, err := writeFile(filepath.Join(dir, name), writers[name])
		if err != nil {
			return nil, fmt.Errorf("evidence: write %s: %w", name, err)
		}
		fe.Name = name
		body.Files = append(body.Files, fe)
	}
	signed, err := json.MarshalIndent(body, "  ", "  ")
	if err != nil {
		return nil, fmt.Errorf("evidence: manifest: %w", err)
	}
	m := ManifestFile{SchemaVersion: SchemaVersion, Signed: signed, Signatures: sign(signed, o.AuditKey, o.SigningKey)}
	if _, err := writeFile(filepath.Join(dir, FileManifest), jsonOf(m)); err != nil {
		return nil, fmt.Errorf("evidence: write %s: %w", FileManifest, err)
	}
	return body, nil
}

// writeFile creates path readable by its owner and group, writes it with
// fn and returns its SHA-256 and size.
func writeFile(path string, fn func(io.Writer) error) (FileEntry, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return FileEntry{}, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	bw := bufio.NewWriterSize(cw, 1<<16)
	if err := fn(bw); err != nil {
		f.Close()
		return FileEntry{}, err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return FileEntry{}, err
	}
	if err := f.Close(); err != nil {
		return FileEntry{}, err
	}
	return FileEntry{SHA256: hex.EncodeToString(h.Sum(nil)), Size: cw.n}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// jsonOf returns a writer of v as indented JSON, HTML characters as they
// are.
func jsonOf(v any) func(io.Writer) error {
	return func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
}

// compactJSON returns a writer of v as JSON without indentation: for the
// files that grow with the campaign (a quarter smaller, and faster).
func compactJSON(v any) func(io.Writer) error {
	return func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
}

// writeJSONL writes one compact JSON value a line.
func writeJSONL[T any](w io.Writer, lines []T) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range lines {
		if err := enc.Encode(&lines[i]); err != nil {
			return err
		}
	}
	return nil
}
