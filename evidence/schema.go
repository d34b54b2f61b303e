package evidence

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schemas holds the JSON Schemas (draft 2020-12) of the bundle's JSON
// files: schema/<file>.json, and schema/audit-line.json for each line of
// audit.jsonl.
//
//go:embed schema/*.json
var Schemas embed.FS

// schemaOf names the schema of each JSON file of a bundle.
var schemaOf = map[string]string{
	FileCampaign: "campaign.json", FilePopulation: "population.json", FileCases: "cases.json",
	FileDecisions: "decisions.json", FileAnalytics: "analytics.json", FileApprovals: "approvals.json",
	FileOperations: "operations.json", FileTickets: "tickets.json", FileManifest: "manifest.json",
	FileAudit: "audit-line.json",
}

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

// schemas compiles the embedded schemas once, asserting formats
// (date-time) as well as types.
func schemas() (map[string]*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		out := map[string]*jsonschema.Schema{}
		for _, name := range schemaOf {
			raw, err := Schemas.ReadFile("schema/" + name)
			if err != nil {
				compileErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				compileErr = fmt.Errorf("schema %s: %w", name, err)
				return
			}
			url := "mem://attest/evidence/" + name
			if err := c.AddResource(url, doc); err != nil {
				compileErr = fmt.Errorf("schema %s: %w", name, err)
				return
			}
			if out[name], err = c.Compile(url); err != nil {
				compileErr = fmt.Errorf("schema %s: %w", name, err)
				return
			}
		}
		compiled = out
	})
	return compiled, compileErr
}

// ValidateFile checks the bundle file at path, named name in the bundle,
// against its schema (each line for audit.jsonl). Files without a schema
// (cases.csv, report.html) pass. It returns the first violation.
func ValidateFile(name, path string) error {
	sname, ok := schemaOf[name]
	if !ok {
		return nil
	}
	all, err := schemas()
	if err != nil {
		return err
	}
	sch := all[sname]
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if name != FileAudit {
		doc, err := jsonschema.UnmarshalJSON(bufio.NewReaderSize(f, 1<<16))
		if err != nil {
			return fmt.Errorf("not valid JSON: %w", err)
		}
		return sch.Validate(doc)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for n := 1; sc.Scan(); n++ {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
		if err != nil {
			return fmt.Errorf("line %d: not valid JSON: %w", n, err)
		}
		if err := sch.Validate(doc); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	return sc.Err()
}

// checkSchemas validates every JSON file of the bundle in dir.
func (r *VerifyReport) checkSchemas(dir string) {
	for _, name := range append([]string{FileManifest}, Files...) {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue // reported as missing
		}
		if err := ValidateFile(name, path); err != nil {
			r.problem(name, "does not match its schema: %s", oneLine(err.Error()))
		}
	}
}

// oneLine folds a multi-line message onto one line.
func oneLine(s string) string {
	return string(bytes.Join(bytes.Fields([]byte(s)), []byte(" ")))
}
