package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/webperm/webperm/audit"
	"github.com/webperm/webperm/audit/access"
	"github.com/webperm/webperm/audit/report"
	"github.com/webperm/webperm/internal/safefile"
	"github.com/webperm/webperm/policy"
)

// policyFlags say what a tree is held to: a preset, a policy file, or both (the file's rules
// after the preset's).
type policyFlags struct {
	file   string
	preset string
	flags  *pflag.FlagSet
}

func (pf *policyFlags) register(f *pflag.FlagSet) {
	pf.flags = f
	f.StringVar(&pf.file, "policy", "", "hold the tree to the policy `FILE` (YAML; see 'webperm policy init'), after its preset's rules")
	f.StringVar(&pf.preset, "preset", policy.Auto, "the preset `NAME`: "+strings.Join(policy.PresetChoices(), ", ")+
		", or several joined with + (cpanel+wordpress); auto picks them from marker files in each root and on the host")
}

// load reads the policy file, if any, and settles the preset: --preset where given, else the
// file's preset:, else auto. For a plan or fix (toChange), the file must be one only the user
// running webperm could have written (readTrustedPolicy).
func (pf *policyFlags) load(toChange bool) (file *policy.Policy, preset string, err error) {
	preset = pf.preset
	if preset != policy.Auto && !policy.IsPreset(preset) {
		return nil, "", withHint(fmt.Errorf("--preset %q: no such preset", preset), "use --preset %s", strings.Join(policy.PresetChoices(), ", --preset "))
	}
	if pf.file == "" {
		return nil, preset, nil
	}
	read := readPolicy
	if toChange {
		read = readTrustedPolicy
	}
	if file, err = read(pf.file); err != nil {
		return nil, "", err
	}
	if !pf.flags.Changed("preset") && file.Base != "" {
		preset = file.Base
	}
	return file, preset, nil
}

// readPolicy reads and parses one policy file: a regular file of at most safefile.PolicyLimit.
func readPolicy(name string) (*policy.Policy, error) {
	data, err := safefile.ReadRegular(name, safefile.PolicyLimit)
	return parsePolicy(name, data, err)
}

// readTrustedPolicy reads the policy a plan or fix is held to. Its rules decide what root will
// change, above the root too (writable: or web: write on /home/ would have root hand /home to
// the web server's group), so, like a plan, it must be a regular file, not a symlink, of the user
// running webperm, writable by no one else, in a directory no one else can write.
func readTrustedPolicy(name string) (*policy.Policy, error) {
	f, err := openTrusted(name, "the policy")
	if err != nil {
		return nil, withHint(err, "keep the policies plan and fix follow where only root can write them, e.g. /etc/webperm")
	}
	defer f.Close()
	data, err := safefile.ReadAll(f, safefile.PolicyLimit)
	return parsePolicy(name, data, err)
}

// parsePolicy parses the policy file name, whose content reading gave as data and err.
func parsePolicy(name string, data []byte, err error) (*policy.Policy, error) {
	if err != nil {
		err = fmt.Errorf("reading the policy %s: %w", fileName(name), err)
		if errors.Is(err, safefile.ErrNotRegular) || errors.Is(err, safefile.ErrTooLarge) || errors.Is(err, safefile.ErrEmptyPath) {
			return nil, withHint(err, "a policy is a YAML file of a few KiB; 'webperm policy check FILE' checks one")
		}
		return nil, withHint(err, "'webperm policy init -o %s' writes a policy to start from", report.Escape(name))
	}
	return policy.Parse(name, data)
}

// applyIdentities fills the identities the command line left empty from the policy file's, and
// says whether it filled any.
func applyIdentities(ids *access.IdentityFlags, file *policy.Policy) (filled bool) {
	if file == nil {
		return false
	}
	for _, f := range []struct {
		flag *string
		file string
	}{
		{&ids.WebUser, file.Identities.WebUser},
		{&ids.WebGroup, file.Identities.WebGroup},
		{&ids.PHPUser, file.Identities.PHPUser},
	} {
		if *f.flag == "" && f.file != "" {
			*f.flag, filled = f.file, true
		}
	}
	return filled
}

func newPolicyCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "policy",
		Short: "write, show and check policy files",
		Long: `A policy file holds a tree to modes, owners and access per path: an ordered list of
rules, each with globs, where the last rule that matches a path wins, as in .gitignore.
Its rules come after its preset's (preset: in the file, or --preset).`,
	}
	c.AddCommand(newPolicyInitCommand(), newPolicyShowCommand(), newPolicyCheckCommand())
	return asGroup(c)
}

func newPolicyInitCommand() *cobra.Command {
	var preset, output string
	var force bool
	c := &cobra.Command{
		Use:   "init [--preset NAME] [-o FILE]",
		Short: "write a commented policy file to start from",
		Long: `Init writes a preset as a policy file, every value with its source cited beside it.
Edit it, check it with 'webperm policy check', and audit with --policy FILE.`,
		Example: `  webperm policy init --preset wordpress -o /etc/webperm/site.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			src, err := policy.PresetSource(preset)
			if err != nil {
				return withHint(err, "use --preset %s", strings.Join(policy.Presets(), ", --preset "))
			}
			if _, std := safefile.Descriptor(output); output != "" && !std && !force {
				if fi, err := os.Lstat(output); err == nil && fi.Mode().IsRegular() {
					return withHint(fmt.Errorf("%s: already exists", report.Escape(output)), "add --force to replace it")
				}
			}
			return writeOutput(c.OutOrStdout(), c.ErrOrStderr(), output, "the policy", safefile.Bytes(src), safefile.ReportMode)
		},
	}
	c.Flags().StringVar(&preset, "preset", "default", "the preset `NAME` to start from: "+strings.Join(policy.Presets(), ", "))
	c.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` instead of stdout")
	c.Flags().BoolVar(&force, "force", false, "replace an existing FILE")
	return c
}

func newPolicyShowCommand() *cobra.Command {
	var pf policyFlags
	var sysroot string
	c := &cobra.Command{
		Use:   "show [--policy FILE] [--preset NAME] [PATH]",
		Short: "print the effective policy: the preset's rules, then the file's",
		Long: `Show prints the policy a tree is held to as one policy file that stands alone: the
preset's rules, then the policy file's, each marked with where it was written. With auto,
the preset is detected from PATH (default: the default preset, when no PATH is given).`,
		Example: `  webperm policy show --policy site.yaml /var/www/html`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			file, preset, err := pf.load(false)
			if err != nil {
				return err
			}
			why := ""
			if preset == policy.Auto {
				preset = "default"
				if len(args) == 1 {
					roots, err := resolveRoots(args, nil)
					if err != nil {
						return err
					}
					var evidence []string
					preset, evidence = audit.DetectPreset(afero.NewOsFs(), roots[0].Path, sysroot)
					why = fmt.Sprintf(" (auto, for %s: %s)", report.Escape(roots[0].Path), describeEvidence(evidence))
				}
			}
			p, err := policy.Resolve(preset, file)
			if err != nil {
				return err
			}
			header := fmt.Sprintf("webperm %s: the effective policy, preset %s%s", webpermVersion(), preset, why)
			if file != nil {
				header += ", then " + report.Escape(file.Name)
			}
			out, err := policy.Format(p, header+"\n\n"+catalogComment())
			if err != nil {
				return err
			}
			_, err = c.OutOrStdout().Write(out)
			return err
		},
	}
	pf.register(c.Flags())
	c.Flags().StringVar(&sysroot, "root", "/", "the audited system's root `DIR`, where auto looks for a hosting panel")
	return c
}

func describeEvidence(evidence []string) string {
	if len(evidence) == 0 {
		return "no marker found"
	}
	found := make([]string, len(evidence))
	for i, e := range evidence {
		found[i] = report.Escape(e)
	}
	return "found " + strings.Join(found, ", ")
}

// catalogComment lists every rule id and its default severity, for severity: and waivers.
func catalogComment() string {
	var b strings.Builder
	b.WriteString("Rule ids (default severity):")
	for _, r := range policy.Catalog {
		fmt.Fprintf(&b, "\n  %s (%s)", r.ID, r.Severity)
	}
	return b.String()
}

func newPolicyCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE...",
		Short: "validate policy files",
		Long: `Check reads each FILE and reports every fault with its file:line:column and key:
unknown keys, bad modes, globs, rule ids and severities, waivers without a reason or an
expiry. It exits 0 when every file is valid, 2 otherwise.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withHint(errors.New("policy check needs at least one FILE"), "webperm policy check site.yaml")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			var errs []error
			for _, name := range args {
				p, err := readPolicy(name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				base := p.Base
				if base == "" {
					base = policy.Auto
				}
				fmt.Fprintf(c.OutOrStdout(), "%s: valid: %d rules and %d waivers after preset %s\n", report.Escape(name), len(p.Rules), len(p.Waivers), base)
				for _, w := range p.Waivers {
					if w.Expired(time.Now()) {
						fmt.Fprintf(c.ErrOrStderr(), "webperm: %s: waiver for %s expired on %s: its findings are reported again\n", report.Escape(w.Origin), w.Rule, w.Expires)
					}
				}
			}
			return errors.Join(errs...)
		},
	}
}
