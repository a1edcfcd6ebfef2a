package pdf

// HostileFile is a generated hostile document, for the tests and the
// benchmark of package pdf_test, which verify them.
type HostileFile struct {
	Name, What string
	Build      func() []byte
}

// HostileFiles lists the hostile documents of hostile_gen_test.go.
func HostileFiles() []HostileFile {
	var out []HostileFile
	for _, h := range hostileFiles() {
		out = append(out, HostileFile{h.name, h.what, h.build})
	}
	return out
}

// ObjStmsPDF is objStmsPDF: n pages, each in an object stream of its own
// that inflates to size bytes.
func ObjStmsPDF(n, size int) []byte { return objStmsPDF(n, size) }
