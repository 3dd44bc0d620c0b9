// Package packaging holds what installs cgmon on a host rather than code:
// the systemd units (cgmon.service, and cgtop_mon.service for cgtop_mon's
// users) and collectd's types.db. Its test has systemd-analyze check the
// units.
package packaging
