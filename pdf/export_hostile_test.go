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
