package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
	"github.com/ronganxian/eseal/seal/cms"
	"github.com/ronganxian/eseal/sealimage"
)

// The attack corpus (testdata/attacks) is built here, from the shared
// fixtures and our own sealed output, by
//
//	go test ./verify -run TestAttackCorpus -update
//
// which rewrites the committed files. Without -update, TestAttackCorpus
// builds a fresh corpus in a temporary directory and runs the attack table
// on it too, so the generator and the table cannot drift apart.

var update = flag.Bool("update", false, "rewrite testdata/attacks from the fixtures")

const (
	attackDir  = "../testdata/attacks"
	fixtureDir = "../testdata/pdfs"
	interopDir = "../testdata/interop"
)

// corpusPKI is the certificates the corpus is signed with: one county
// root, seals under it (good, expired, revoked, suspended), another root
// that trusts none of them, and the root's CRL.
type corpusPKI struct {
	root, wrongRoot                *smx509.Certificate
	rootKey                        crypto.Signer
	good, expired, revoked, onHold *cms.Signer
	goodCert                       *smx509.Certificate
	goodKey                        crypto.Signer
	crlDER                         []byte
	signingTime                    time.Time
}

func newCorpusPKI() (*corpusPKI, error) {
	t0 := time.Now().UTC().Truncate(time.Second)
	p := &corpusPKI{signingTime: t0}
	root, rootKey, err := corpusCA("测试县电子印章根CA (TEST)", t0)
	if err != nil {
		return nil, err
	}
	wrong, _, err := corpusCA("另一个县电子印章根CA (TEST)", t0)
	if err != nil {
		return nil, err
	}
	p.root, p.rootKey, p.wrongRoot = root, rootKey, wrong
	const seal = smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment
	leaf := func(name string, from, to time.Time) (*cms.Signer, *smx509.Certificate, error) {
		return issueSeal(root, rootKey, name, from, to, seal)
	}
	const year = 365 * 24 * time.Hour
	var revokedCert, holdCert *smx509.Certificate
	if p.good, p.goodCert, p.goodKey, err = issueSealKey(root, rootKey, "融安县长安镇人民政府行政审批专用章", t0.Add(-time.Hour), t0.Add(5*year), seal); err != nil {
		return nil, err
	}
	if p.expired, _, err = leaf("融安县长安镇人民政府行政审批专用章（已过期）", t0.Add(-2*year), t0.Add(-year)); err != nil {
		return nil, err
	}
	if p.revoked, revokedCert, err = leaf("融安县长安镇人民政府行政审批专用章（已注销）", t0.Add(-time.Hour), t0.Add(5*year)); err != nil {
		return nil, err
	}
	if p.onHold, holdCert, err = leaf("融安县长安镇人民政府行政审批专用章（已挂失）", t0.Add(-time.Hour), t0.Add(5*year)); err != nil {
		return nil, err
	}
	p.crlDER, err = smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: t0, NextUpdate: t0.Add(50 * year),
		RevokedCertificateEntries: []smx509.RevocationListEntry{
			{SerialNumber: revokedCert.SerialNumber, RevocationTime: t0.Add(-30 * time.Minute), ReasonCode: 1},
			{SerialNumber: holdCert.SerialNumber, RevocationTime: t0.Add(-30 * time.Minute), ReasonCode: reasonCertificateHold},
		},
	}, root, rootKey)
	return p, err
}

// issueSeal issues a seal certificate under parent, as the county CA
// does (the township code as the subject serialNumber), and returns a
// signer with the chain parent-leaf.
func issueSeal(parent *smx509.Certificate, parentKey crypto.Signer, name string, from, to time.Time, ku smx509.KeyUsage) (*cms.Signer, *smx509.Certificate, error) {
	s, cert, _, err := issueSealKey(parent, parentKey, name, from, to, ku)
	return s, cert, err
}

// issueSealKey is issueSeal, also returning the seal's key.
func issueSealKey(parent *smx509.Certificate, parentKey crypto.Signer, name string, from, to time.Time, ku smx509.KeyUsage) (*cms.Signer, *smx509.Certificate, crypto.Signer, error) {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &smx509.Certificate{
		SerialNumber: randSerial(),
		Subject: pkix.Name{Country: []string{"CN"}, Organization: []string{"融安县长安镇人民政府"},
			CommonName: name, SerialNumber: "450224100"},
		NotBefore: from, NotAfter: to,
		KeyUsage:              ku,
		BasicConstraintsValid: true,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := cms.NewSigner(key, []*smx509.Certificate{cert, parent}, cms.ProfileDefault)
	return s, cert, key, err
}

func corpusCA(name string, t0 time.Time) (*smx509.Certificate, crypto.Signer, error) {
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &smx509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{Country: []string{"CN"}, Organization: []string{"测试县政务服务监督管理办公室"}, CommonName: name},
		NotBefore:    t0.Add(-3 * 365 * 24 * time.Hour), NotAfter: t0.Add(60 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := smx509.ParseCertificate(der)
	return cert, key, err
}

func randSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

// sealWith seals in as township 长安镇 would, at the corpus's signing time.
func (p *corpusPKI) sealWith(in []byte, s *cms.Signer, img *pdf.SealImage, field string) ([]byte, error) {
	var out bytes.Buffer
	_, err := pdf.Seal(context.Background(), &out, bytes.NewReader(in), int64(len(in)), pdf.Request{
		Signer: s, Time: p.signingTime, SealName: "融安县长安镇人民政府行政审批专用章", Reason: "准予行政许可",
		Location: "融安县长安镇人民政府", ItemCode: "000115001000", ItemName: "农村村民住宅用地审批",
		CaseNumber: "CA-2026-000123", Image: img, FieldName: field,
	})
	return out.Bytes(), err
}

// buildCorpus writes every corpus file into dir.
func buildCorpus(dir string) error {
	p, err := newCorpusPKI()
	if err != nil {
		return err
	}
	small, err := os.ReadFile(filepath.Join(fixtureDir, "one_type0.pdf"))
	if err != nil {
		return err
	}
	decision, err := os.ReadFile(filepath.Join(fixtureDir, "decision.pdf"))
	if err != nil {
		return err
	}
	interop, err := os.ReadFile(filepath.Join(interopDir, "bc-signed-invisible-objstm.pdf"))
	if err != nil {
		return err
	}
	img, err := pdf.NewSealImage(sealimage.Round(240), 40)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"root.pem":       pemBlock("CERTIFICATE", p.root.Raw),
		"wrong-root.pem": pemBlock("CERTIFICATE", p.wrongRoot.Raw),
		"crl.pem":        pemBlock("X509 CRL", p.crlDER),
	}
	valid, err := p.sealWith(small, p.good, nil, "")
	if err != nil {
		return err
	}
	visible, err := p.sealWith(decision, p.good, img, "")
	if err != nil {
		return err
	}
	smallVisible, err := p.sealWith(small, p.good, img, "")
	if err != nil {
		return err
	}
	files["valid.pdf"] = valid
	files["valid-visible.pdf"] = visible
	if files["valid-twice.pdf"], err = p.sealWith(valid, p.good, nil, "ESeal2"); err != nil {
		return err
	}
	for name, s := range map[string]*cms.Signer{"expired.pdf": p.expired, "revoked.pdf": p.revoked, "suspended.pdf": p.onHold} {
		if files[name], err = p.sealWith(small, s, nil, ""); err != nil {
			return err
		}
	}

	// Tampering with the signed bytes and the signature dictionary.
	files["flipped-byte.pdf"] = flipContentByte(valid)
	files["zeroed-contents.pdf"] = zeroContents(valid)
	if files["shortened-byterange.pdf"], err = shortenByteRange(valid); err != nil {
		return err
	}
	files["appended-after-eof.pdf"] = append(append([]byte(nil), valid...), "\nappended after the end of the file\n"...)
	// Universal signature forgery: the entries that carry the signature
	// made missing, empty or null, in place.
	sigRE := regexp.MustCompile(`/Contents<[0-9A-Fa-f]*>`)
	brRE := regexp.MustCompile(`/ByteRange\[[0-9 ]*\]`)
	files["usf-contents-missing.pdf"] = replaceLast(valid, sigRE, "")
	files["usf-contents-empty.pdf"] = replaceLast(valid, sigRE, "/Contents<>")
	files["usf-contents-null.pdf"] = replaceLast(valid, sigRE, "/Contents null")
	files["usf-byterange-missing.pdf"] = replaceLast(valid, brRE, "")
	files["usf-byterange-null.pdf"] = replaceLast(valid, brRE, "/ByteRange null")
	files["usf-byterange-zero.pdf"] = replaceLast(valid, brRE, "/ByteRange[0 0 0 0]")

	// Changes appended after signing.
	if files["whitebox-name.pdf"], err = whiteBoxName(visible); err != nil {
		return err
	}
	if files["replaced-content.pdf"], err = replaceContent(valid); err != nil {
		return err
	}
	if files["isa.pdf"], err = incrementalSaving(valid, false); err != nil {
		return err
	}
	if files["isa-copied-sigdict.pdf"], err = incrementalSaving(valid, true); err != nil {
		return err
	}
	if files["shadow-hide-replace.pdf"], err = p.shadowHideReplace(small); err != nil {
		return err
	}
	if files["annotation-cover.pdf"], err = addAnnotation(smallVisible, "/Subtype/Square/Rect[56 700 330 760]/IC[1 1 1]/C[1 1 1]/F 4"); err != nil {
		return err
	}
	if files["annotation-note.pdf"], err = addAnnotation(smallVisible, "/Subtype/Text/Rect[520 780 540 800]/Contents(checked)/F 4"); err != nil {
		return err
	}
	if files["signature-wrapping.pdf"], err = signatureWrapping(interop); err != nil {
		return err
	}
	// The seal, not only the signature (issue 16).
	withSESeal, err := p.sesealFiles(decision)
	if err != nil {
		return err
	}
	maps.Copy(files, withSESeal)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// replaceLast replaces the last match of re with repl padded with spaces
// to the match's length, so that no offset moves.
func replaceLast(b []byte, re *regexp.Regexp, repl string) []byte {
	locs := re.FindAllIndex(b, -1)
	loc := locs[len(locs)-1]
	out := append([]byte(nil), b...)
	n := copy(out[loc[0]:loc[1]], repl)
	for i := loc[0] + n; i < loc[1]; i++ {
		out[i] = ' '
	}
	return out
}

// flipContentByte flips a bit of the first content stream's data.
func flipContentByte(b []byte) []byte {
	out := append([]byte(nil), b...)
	i := bytes.Index(out, []byte("stream\n")) + len("stream\n") + 20
	out[i] ^= 0x01
	return out
}

// zeroContents overwrites the signature value with zeros.
func zeroContents(b []byte) []byte {
	out := append([]byte(nil), b...)
	loc := regexp.MustCompile(`/Contents<([0-9A-Fa-f]*)>`).FindAllSubmatchIndex(out, -1)
	m := loc[len(loc)-1]
	for i := m[2]; i < m[3]; i++ {
		out[i] = '0'
	}
	return out
}

// shortenByteRange rewrites the byte range in place so that it leaves
// the last 64 bytes of the file unsigned.
func shortenByteRange(b []byte) ([]byte, error) {
	re := regexp.MustCompile(`/ByteRange\[(\d+) (\d+) (\d+) (\d+) *\]`)
	locs := re.FindAllSubmatchIndex(b, -1)
	m := locs[len(locs)-1]
	var v [4]int64
	for i := range v {
		n, err := strconv.ParseInt(string(b[m[2+2*i]:m[3+2*i]]), 10, 64)
		if err != nil {
			return nil, err
		}
		v[i] = n
	}
	return replaceLast(b, re, fmt.Sprintf("/ByteRange[%d %d %d %d]", v[0], v[1], v[2], v[3]-64)), nil
}

// rawObject is an object to append: its number and body.
type rawObject struct {
	num  int
	body string
}

// appendUpdate appends an incremental update to base: the objects, and a
// cross-reference table that also points the numbers in redirect at the
// given offsets (objects already in the file).
func appendUpdate(base []byte, objs []rawObject, redirect map[int]int64) []byte {
	out := append([]byte(nil), base...)
	if out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	offs := map[int]int64{}
	for n, off := range redirect {
		offs[n] = off
	}
	for _, o := range objs {
		offs[o.num] = int64(len(out))
		out = fmt.Appendf(out, "%d 0 obj\n%s\nendobj\n", o.num, o.body)
	}
	size := lastInt(base, `/Size (\d+)`)
	nums := make([]int, 0, len(offs))
	for n := range offs {
		nums = append(nums, n)
		size = max(size, int64(n)+1)
	}
	sortInts(nums)
	xref := len(out)
	out = append(out, "xref\n"...)
	for _, n := range nums {
		out = fmt.Appendf(out, "%d 1\n%010d 00000 n \n", n, offs[n])
	}
	out = fmt.Appendf(out, "trailer\n<</Size %d/Root %s", size, lastMatch(base, `/Root (\d+ \d+ R)`))
	if info := lastMatch(base, `/Info (\d+ \d+ R)`); info != "" {
		out = fmt.Appendf(out, "/Info %s", info)
	}
	out = fmt.Appendf(out, "/Prev %d>>\nstartxref\n%d\n%%%%EOF\n", lastInt(base, `startxref\s+(\d+)`), xref)
	return out
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func lastMatch(b []byte, expr string) string {
	ms := regexp.MustCompile(expr).FindAllSubmatch(b, -1)
	if len(ms) == 0 {
		return ""
	}
	return string(ms[len(ms)-1][1])
}

func lastInt(b []byte, expr string) int64 {
	n, _ := strconv.ParseInt(lastMatch(b, expr), 10, 64)
	return n
}

// lastObject returns the body of the last definition of object num.
func lastObject(b []byte, num int) (string, error) {
	ms := regexp.MustCompile(fmt.Sprintf(`(?s)(?:^|[\r\n])%d 0 obj\s*(.*?)\s*endobj`, num)).FindAllSubmatch(b, -1)
	if len(ms) == 0 {
		return "", fmt.Errorf("object %d not found", num)
	}
	return string(ms[len(ms)-1][1]), nil
}

// pageObject is the number of the (only) page of a one-page fixture.
func pageObject(b []byte) (int, error) {
	m := regexp.MustCompile(`(\d+) 0 obj\s*<<\s*/Type\s*/Page[^s]`).FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no page object")
	}
	return strconv.Atoi(string(m[1]))
}

func stream(data string) string {
	return fmt.Sprintf("<</Length %d>>\nstream\n%s\nendstream", len(data), data)
}

// contentsRE finds a page's single content stream reference.
var contentsRE = regexp.MustCompile(`/Contents\s*(\d+) 0 R`)

// whiteBoxName covers the applicant's name in decision.pdf with a white
// box and writes another name over it, in an update that adds a content
// stream and a font to the page.
func whiteBoxName(sealed []byte) ([]byte, error) {
	pageNum, err := pageObject(sealed)
	if err != nil {
		return nil, err
	}
	page, err := lastObject(sealed, pageNum)
	if err != nil {
		return nil, err
	}
	m := contentsRE.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("page has no single content stream")
	}
	next := int(lastInt(sealed, `/Size (\d+)`))
	content, font, fonts := next, next+1, next+2
	page = contentsRE.ReplaceAllString(page, fmt.Sprintf("/Contents[%s 0 R %d 0 R]", m[1], content))
	page = regexp.MustCompile(`/Resources\s*\d+ 0 R`).ReplaceAllString(page, fmt.Sprintf("/Resources<</Font %d 0 R/ProcSet[/PDF/Text]>>", fonts))
	oldFonts, err := lastObject(sealed, 15)
	if err != nil {
		return nil, err
	}
	newFonts := oldFonts[:len(oldFonts)-2] + fmt.Sprintf("/FZ %d 0 R>>", font)
	return appendUpdate(sealed, []rawObject{
		{content, stream("q 1 1 1 rg 55 664 276 19 re f Q BT /FZ 12 Tf 57 668 Td (Applicant: WANG Wu, ID 330102199001011111) Tj ET")},
		{font, "<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>"},
		{fonts, newFonts},
		{pageNum, page},
	}, nil), nil
}

// replaceContent replaces the page's content stream with another.
func replaceContent(sealed []byte) ([]byte, error) {
	pageNum, err := pageObject(sealed)
	if err != nil {
		return nil, err
	}
	page, err := lastObject(sealed, pageNum)
	if err != nil {
		return nil, err
	}
	m := contentsRE.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("page has no single content stream")
	}
	n, _ := strconv.Atoi(m[1])
	return appendUpdate(sealed, []rawObject{{n, stream("q 1 1 1 rg 0 0 595 842 re f Q")}}, nil), nil
}

// incrementalSaving appends an update that adds content to the page, as
// the incremental saving attack does; with copySig, the update also
// carries a copy of the signature dictionary, so that the last revision
// looks signed.
func incrementalSaving(sealed []byte, copySig bool) ([]byte, error) {
	pageNum, err := pageObject(sealed)
	if err != nil {
		return nil, err
	}
	page, err := lastObject(sealed, pageNum)
	if err != nil {
		return nil, err
	}
	m := contentsRE.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("page has no single content stream")
	}
	next := int(lastInt(sealed, `/Size (\d+)`))
	page = contentsRE.ReplaceAllString(page, fmt.Sprintf("/Contents[%s 0 R %d 0 R]", m[1], next))
	objs := []rawObject{{next, stream("q 1 0 0 rg 300 400 200 60 re f Q")}, {pageNum, page}}
	if copySig {
		sigNum := int(lastInt(sealed, `/V (\d+) 0 R`))
		sig, err := lastObject(sealed, sigNum)
		if err != nil {
			return nil, err
		}
		objs = append(objs, rawObject{sigNum, sig})
	}
	return appendUpdate(sealed, objs, nil), nil
}

// addAnnotation appends an update that adds an annotation to the page.
func addAnnotation(sealed []byte, entries string) ([]byte, error) {
	pageNum, err := pageObject(sealed)
	if err != nil {
		return nil, err
	}
	page, err := lastObject(sealed, pageNum)
	if err != nil {
		return nil, err
	}
	annots := regexp.MustCompile(`/Annots\s*\[([^\]]*)\]`)
	if !annots.MatchString(page) {
		return nil, fmt.Errorf("page has no direct /Annots")
	}
	next := int(lastInt(sealed, `/Size (\d+)`))
	page = annots.ReplaceAllString(page, fmt.Sprintf("/Annots[$1 %d 0 R]", next))
	return appendUpdate(sealed, []rawObject{
		{next, fmt.Sprintf("<</Type/Annot%s/P %d 0 R>>", entries, pageNum)},
		{pageNum, page},
	}, nil), nil
}

// shadowHideReplace builds the shadow attack's hide-and-replace variant:
// before signing, an update hides a second version of the page's content
// stream, under the same object number but listed in no cross-reference
// section; after signing, an update of nothing but a cross-reference
// table points that number at the hidden version.
func (p *corpusPKI) shadowHideReplace(in []byte) ([]byte, error) {
	pageNum, err := pageObject(in)
	if err != nil {
		return nil, err
	}
	page, err := lastObject(in, pageNum)
	if err != nil {
		return nil, err
	}
	m := contentsRE.FindStringSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("page has no single content stream")
	}
	contentNum, _ := strconv.Atoi(m[1])
	next := int(lastInt(in, `/Size (\d+)`))
	prepared := appendUpdate(in, []rawObject{{next, "(an unused object: the update needs one)"}}, nil)
	// Hide the replacement between the objects, outside every section.
	at := bytes.LastIndex(prepared, []byte("xref\n"))
	hidden := fmt.Sprintf("%d 0 obj\n%s\nendobj\n", contentNum, stream("q 1 1 1 rg 0 0 595 842 re f Q BT /F1 24 Tf 100 700 Td (REPLACED) Tj ET"))
	withHidden := append(append(append([]byte(nil), prepared[:at]...), hidden...), prepared[at:]...)
	// The hidden bytes moved the cross-reference table: fix startxref.
	xrefAt := at + len(hidden)
	tail := regexp.MustCompile(`startxref\n\d+\n%%EOF\n$`)
	withHidden = tail.ReplaceAll(withHidden, fmt.Appendf(nil, "startxref\n%d\n%%%%EOF\n", xrefAt))
	sealed, err := p.sealWith(withHidden, p.good, nil, "")
	if err != nil {
		return nil, err
	}
	return appendUpdate(sealed, nil, map[int]int64{contentNum: int64(at)}), nil
}

// signatureWrapping moves the signed bytes after the /Contents of a
// PDFBox-signed file to the end, and writes into the room this makes a
// new /ByteRange that points at them, a page of the attacker's own and a
// cross-reference table that serves it. The signed bytes are all still
// there, so the digest matches; only the gap no longer is /Contents.
func signatureWrapping(orig []byte) ([]byte, error) {
	br := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+)\]`).FindSubmatch(orig)
	if br == nil {
		return nil, fmt.Errorf("no byte range")
	}
	gapEnd, _ := strconv.Atoi(string(br[2]))
	tailLen, _ := strconv.Atoi(string(br[3]))
	signedTail := orig[gapEnd:]
	if len(signedTail) != tailLen {
		return nil, fmt.Errorf("the signature does not cover the whole file")
	}
	startxref := int(lastInt(orig, `startxref\s+(\d+)`))
	prev := lastInt(orig, `/Prev (\d+)`)
	pageNum := lastInt(orig, `/P (\d+) 0 R`)
	pagesNum := lastInt(orig, `/Pages (\d+) 0 R`)
	sigNum := lastInt(orig, `/V (\d+) 0 R`)
	root := lastMatch(orig, `/Root (\d+ \d+ R)`)
	rootNum, _ := strconv.Atoi(root[:len(root)-4])
	// The objects of the signed update that lie in the moved tail.
	moved := map[int]int{}
	for _, m := range regexp.MustCompile(`\n(\d+) 0 obj`).FindAllSubmatchIndex(signedTail, -1) {
		n, _ := strconv.Atoi(string(signedTail[m[2]:m[3]]))
		moved[n] = m[0] + 1
	}
	// Widget, catalog and signature dictionary stay where they were.
	fixed := map[int]int{}
	for _, n := range []int{rootNum, int(sigNum), int(lastInt(orig, `(\d+) 0 obj\s*<<\s*/FT /Sig`))} {
		i := bytes.LastIndex(orig[:gapEnd], fmt.Appendf(nil, "\n%d 0 obj", n))
		if i < 0 {
			return nil, fmt.Errorf("object %d not found", n)
		}
		fixed[n] = i + 1
	}
	contentObj := fmt.Sprintf("90 0 obj\n%s\nendobj\n", stream("BT /F1 24 Tf 100 700 Td (REPLACED) Tj ET"))
	pageObj := fmt.Sprintf("%d 0 obj\n<</Type/Page/Parent %d 0 R/MediaBox[0 0 595 842]/Contents 90 0 R/Resources<<>>>>\nendobj\n", pageNum, pagesNum)
	build := func(newGapEnd int) []byte {
		out := append([]byte(nil), orig[:gapEnd]...)
		out = fmt.Appendf(out, "\n/ByteRange [0 %s %d %d]\n>>\nendobj\n", br[1], newGapEnd, tailLen)
		// The tail's startxref names the old section's offset: the
		// attacker's cross-reference table goes there.
		if len(out) > startxref {
			return nil
		}
		for len(out) < startxref {
			out = append(out, ' ')
		}
		table := func(content, page int) []byte {
			offs := map[int]int{90: content, int(pageNum): page}
			for n, o := range fixed {
				offs[n] = o
			}
			for n, o := range moved {
				offs[n] = newGapEnd + o
			}
			nums := make([]int, 0, len(offs))
			for n := range offs {
				nums = append(nums, n)
			}
			sortInts(nums)
			t := []byte("xref\n")
			for _, n := range nums {
				t = fmt.Appendf(t, "%d 1\n%010d 00000 n \n", n, offs[n])
			}
			return fmt.Appendf(t, "trailer\n<</Size 91/Root %s/Prev %d>>\n", root, prev)
		}
		content := len(out) + len(table(0, 0))
		out = append(out, table(content, content+len(contentObj))...)
		out = append(out, contentObj...)
		return append(out, pageObj...)
	}
	// The new byte range names where the tail will be, which depends on
	// the length of what precedes it: iterate until it is stable.
	guess := len(orig) + 1024
	for range 8 {
		head := build(guess)
		if head == nil {
			return nil, fmt.Errorf("the attacker's objects do not fit before byte %d", startxref)
		}
		if len(head) == guess {
			return append(head, signedTail...), nil
		}
		guess = len(head)
	}
	return nil, fmt.Errorf("the wrapped byte range does not settle")
}
