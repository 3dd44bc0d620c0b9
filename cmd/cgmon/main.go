// Command cgmon watches every cgroup on a Linux host. This package only
// wires the command line to the internal packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// exitUsage is the exit code for a bad command line or configuration.
const exitUsage = 2

// usageError marks errors that are the user's input, not the host's.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := newRootCommand()
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "cgmon:", err)
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		os.Exit(exitUsage)
	}
	os.Exit(1)
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "cgmon",
		Short:         "Watch every cgroup on a Linux host",
		Long:          "cgmon watches every cgroup on a Linux host — systemd units, LXC, Podman and Docker containers, nspawn machines, Kubernetes pods — with CPU, memory, tasks, IO and pressure for each.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newSnapshotCommand(), newRunCommand(), newVersionCommand(), newPsCommand(), newUseCommand(), newCollectdExecCommand(), newConfigCommand(), newTopCommand())
	return root
}

// noArgs is cobra.NoArgs with a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", args[0])}
	}
	return nil
}
