package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cgmon/cgmon/internal/config"
)

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration and list its keys",
		Args:  noArgs, // a mistyped subcommand is a usage error, not help
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newConfigCheckCommand(), newConfigKeysCommand())
	return cmd
}

func newConfigCheckCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "check [--config PATH]",
		Short: "Load the configuration file and the environment and print the result",
		Long: `check loads the configuration as cgmon run does — the defaults, then the
file (--config, else $CGMON_CONFIG: cgmon's YAML, LXC Monitor's YAML or
cgtop_mon's environment file), then the CGTOP_MON_* and CGMON_* variables —
prints each warning (an unknown key or variable) to standard error and the
effective configuration, secrets masked, as YAML to standard output.
It exits 2, naming the file, line and key, when the configuration is bad.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src := config.Sources{File: file, Env: os.Environ()}
			c, warns, err := config.Load(src)
			for _, w := range warns {
				fmt.Fprintln(cmd.ErrOrStderr(), "cgmon: warning:", w)
			}
			if err != nil {
				return usageError{err}
			}
			out, err := c.YAML()
			if err != nil {
				return err
			}
			from := "defaults and environment"
			if p := src.Path(); p != "" {
				from = p + " and environment"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "# cgmon's effective configuration (%s; secrets masked)\n%s", from, out)
			return err
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "configuration file (default $CGMON_CONFIG)")
	return cmd
}

func newConfigKeysCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "keys",
		Short: "List every configuration key with its environment variable and default",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "KEY\tVARIABLE\tTYPE\tDEFAULT")
			for _, k := range config.Keys() {
				env, typ := k.Env, k.Type
				if env == "" {
					env = "-"
				}
				if k.Secret {
					typ += " (secret)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.Path, env, typ, k.Default)
			}
			return w.Flush()
		},
	}
}
