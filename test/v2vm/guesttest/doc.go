// Package guesttest holds a smoke test that runs inside the cgroup v2 VM
// (driven by ../v2vm_test.go through v2vm.RunGuestTests). On the host its
// tests skip.
package guesttest
