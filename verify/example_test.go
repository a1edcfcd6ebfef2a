package verify_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/ronganxian/eseal/verify"
)

// A verifier checks a sealed PDF offline, trusting only the county root.
func Example() {
	root, err := os.ReadFile("../testdata/attacks/root.pem")
	if err != nil {
		log.Fatal(err)
	}
	roots, err := verify.ParseCertificates(root)
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("../testdata/attacks/valid.pdf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	rep, err := verify.PDF(context.Background(), f, st.Size(), verify.Options{Roots: roots})
	if err != nil {
		log.Fatal(err) // not a PDF it can read at all
	}
	fmt.Println(rep.Verdict)
	for _, s := range rep.Signatures {
		fmt.Println(s.Township, s.ItemCode, s.Valid, s.Revocation)
	}
	// Output:
	// valid
	// 450224100 000115001000 true unknown
}
