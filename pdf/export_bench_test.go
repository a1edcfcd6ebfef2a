package pdf

import "testing"

// LargePDF returns the path of the generated 200-page, 10 MB document
// (large_test.go), for the verifier's benchmark in package pdf_test,
// which cannot reach the package's own test helpers.
func LargePDF(tb testing.TB) string { return largePDF(tb) }
