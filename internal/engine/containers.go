package engine

import "github.com/cgmon/cgmon/internal/container"

// enableContainers sets up the per-container enrichment when asked for. It
// runs after the cgroup read and before the model is built, so its raw
// counters get their rates in model.Build like every other figure.
func (e *Engine) enableContainers(opts Options) error {
	if opts.Containers == nil {
		return nil
	}
	co := *opts.Containers
	if co.Logger == nil {
		co.Logger = opts.Logger
	}
	if co.DockerRoot == "" {
		co.DockerRoot = opts.Resolver.DockerRoot
	}
	en, err := container.New(e.root, e.collector.Layout(), co)
	if err != nil {
		return err
	}
	e.enricher = en
	return nil
}

// Containers returns the container enrichment's counters; ok is false when
// it is off.
func (e *Engine) Containers() (s container.Stats, ok bool) {
	if e.enricher == nil {
		return container.Stats{}, false
	}
	return e.enricher.Stats(), true
}
