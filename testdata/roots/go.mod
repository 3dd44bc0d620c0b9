// testdata/roots is a separate, empty module for one reason: it keeps these
// fixture trees out of cgmon's module zip. Fixture paths mirror the kernel's
// (sys/dev/block/254:0/uevent) and ':' is not allowed in module zip file
// paths (golang.org/x/mod/module.CheckFilePath), so without this file
// the module proxy could not serve cgmon and `go install ...@version` would fail.
// Tests read the trees from disk and are not affected.
module github.com/cgmon/cgmon/testdata/roots
