package main

import (
	"fmt"
)

// cmdCheckConfig validates the configuration (file plus environment) and
// prints the effective values with every secret shown as <secret>.
func cmdCheckConfig(e *env, args []string) error {
	fs, c := newFlags(e, "check-config", "", true)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := e.loadConfig(c)
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(e.stdout, cfg)
	}
	out, err := cfg.Redacted()
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, "configuration is valid")
	_, err = e.stdout.Write(out)
	return err
}
