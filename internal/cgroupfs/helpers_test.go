package cgroupfs

import "github.com/cgmon/cgmon/internal/kerntext/kerntexttest"

// Shared with the other parser tests (internal/kerntext/kerntexttest).
var (
	testdata        = kerntexttest.Testdata
	checkErr        = kerntexttest.CheckErr
	checkParseError = kerntexttest.CheckParseError
	bench           = kerntexttest.Bench
)
