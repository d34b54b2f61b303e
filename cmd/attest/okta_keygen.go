package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/attestbot/attest/okta"
)

// cmdOkta holds the Okta set-up helpers: `attest okta keygen`.
func cmdOkta(e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: attest okta SUBCOMMAND [flags]\n\nSubcommands:")
		fmt.Fprintln(e.stderr, "  keygen  make the private key of an Okta OAuth service app and print its public JWKS")
		if len(args) == 0 {
			return usagef("okta needs a subcommand")
		}
		return flag.ErrHelp
	}
	if args[0] == "keygen" {
		return oktaKeygen(e, args[1:])
	}
	return usagef("unknown okta subcommand %q", args[0])
}

// oktaKeygen is `attest okta keygen [--out FILE] [--kid KID] [--ec]`: a new
// private key written to FILE (mode 0600, never over an existing file),
// the public JWKS on stdout, the next steps on stderr.
func oktaKeygen(e *env, args []string) error {
	fset := flag.NewFlagSet("okta keygen", flag.ContinueOnError)
	fset.SetOutput(e.stderr)
	out := fset.String("out", "okta-private-key.pem", "file to write the private key to (mode 0600; an existing file is never overwritten)")
	kid := fset.String("kid", "", "key id (kid) of the public key (default: its RFC 7638 thumbprint)")
	ec := fset.Bool("ec", false, "make an EC P-256 key (ES256) instead of RSA 2048 (RS256)")
	fset.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: attest okta keygen [--out FILE] [--kid KID] [--ec]\n\nFlags:")
		fset.PrintDefaults()
	}
	if err := parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return usagef("unexpected argument %q", fset.Arg(0))
	}
	if *out == "" {
		return usagef("--out is empty; give the file to write the private key to")
	}
	key, err := okta.GenerateKey(*ec)
	if err != nil {
		return err
	}
	if *kid == "" {
		if *kid, err = okta.KeyThumbprint(key); err != nil {
			return err
		}
	}
	pemBytes, err := okta.PrivateKeyPEM(key)
	if err != nil {
		return err
	}
	jwks, err := okta.PublicJWKS(key, *kid)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; attest never overwrites a key: move it away or give --out another file", *out)
	}
	if err != nil {
		return fmt.Errorf("write the private key: %w", err)
	}
	if _, err := f.Write(pemBytes); err != nil {
		f.Close()
		return fmt.Errorf("write the private key to %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the private key to %s: %w", *out, err)
	}
	if _, err := fmt.Fprintf(e.stdout, "%s\n", jwks); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, `
Private key written to %[1]s (mode 0600). Keep it secret; the JWKS above is its public half.

Next, in the Okta Admin Console:
  1. Applications > Create App Integration > API Services; name it (e.g. attest-read).
  2. General > Client Credentials > Edit: choose "Public key / Private key", Add key, paste the JWKS above, Save.
  3. Okta API Scopes: grant okta.users.read, okta.groups.read, okta.apps.read, okta.logs.read
     (a write client: okta.users.read, okta.groups.manage, okta.apps.manage).
  4. Admin Roles: assign Read-only Administrator (a write client: a role that may change group
     memberships and app assignments; see README, "Okta: OAuth 2.0 service app").
Then configure attest:
  okta:
    auth: private_key
    client_id: <the app's client id>
    private_key: %[1]s     # or the PEM itself in OKTA_PRIVATE_KEY
    key_id: %[2]s
DPoP is on by default (okta.dpop: true), matching the app's "Require DPoP" default.
`, *out, *kid)
	return nil
}
