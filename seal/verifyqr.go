package seal

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	goqr "github.com/piglig/go-qr"
	"github.com/ronganxian/eseal/pdf"
)

// The verification QR code (issue 18): a sealing may draw, beside the seal
// and in the same signed revision, a QR code that leads a reader to the
// county's verification page and to the ledger's public record of that
// sealing.
//
// What it encodes: <BASE_URL>/VERIFY/R/<SHORT>, where SHORT is the first
// 100 bits of the SM3 of the document as the service received it (the
// record's InputSM3), in 20 characters of base32 (RFC 4648: A–Z, 2–7).
// Scheme and host are written in upper case, which URLs do not
// distinguish, so that a base URL without a path is all QR alphanumeric
// characters and the code stays small: for http://127.0.0.1:8080 it is 51
// characters, a version 3 symbol (29×29 modules) at error correction level
// M. A base URL path is kept as written (paths are case-sensitive); the
// encoder then mixes a byte segment with an alphanumeric one.
//
// Why the input's hash, and not the ledger sequence or the output's hash:
// the sequence is given to a record when the ledger appends it, after the
// document is signed (Sealer.Seal signs, then Ledger.Append chains the
// record in a group commit, store/sqlstore); knowing it before signing
// would mean taking it before the signature and holding every other
// sealing back until this one commits, or leaving gaps in a hash chain
// whose sequence has none. The hash of the sealed output cannot be in it
// either: the code is part of the signed revision, so that hash depends on
// the code. The input's hash is known before signing, and the record keeps
// it.
//
// Why it is sound: the code is only a way to find the record. The page
// (package verifyweb) asks the public lookup (api, GET
// /v1/public/sealings/{short}) for the sealed records whose input hash
// starts with SHORT, shows each, and compares the full 256-bit SM3 of the
// file the reader drops with each record's OutputSM3: only that
// comparison says "this file is the document the ledger recorded". The
// verifier's verdict on the signatures stands beside it, unchanged. A
// short form shared by two inputs finds both records, and the file matches
// at most the one it is (the lookup returns every match, up to a bound).
// 100 bits make an accidental shared prefix negligible (among ten million
// sealings, about 4×10⁻¹⁷), and finding an input whose prefix is another
// document's takes about 2¹⁰⁰ SM3 evaluations; making two inputs that share
// one deliberately (about 2⁵⁰) gains nothing but two records found.
//
// What it does not prove: the code on a printed page proves nothing about
// that page — a forger can copy a genuine code onto a forged paper. The
// lookup shows that a sealing of some document with that input hash exists,
// and when, where and for which item; only dropping the PDF file on the
// page and seeing it match, with the verifier's 有效, shows that the file is
// the sealed one. The public record names no case, person or request.
//
// The library: github.com/piglig/go-qr v1.1.0, weighed against
// github.com/yeqown/go-qrcode/v2 v2.3.0, github.com/skip2/go-qrcode (last
// change 2020), rsc.io/qr (2018) and github.com/boombuler/barcode. go-qr
// and yeqown are both maintained (releases in 2026); go-qr has no
// dependencies, gives each module (QrCode.Module), and makes optimal mixed
// segments (a byte-mode path with an alphanumeric SHORT), where yeqown
// chooses one mode for the whole text, draws through a Writer interface and
// brings golang.org/x/text and a Reed–Solomon module. go-qr holds a 256 KB
// Kanji table built at start-up, so it stays out of package pdf, which the
// browser's WebAssembly verifier links: pdf draws the modules it is given
// (pdf.QRCode). Tests decode the drawn code with an independent decoder,
// github.com/makiuchi-d/gozxing (a port of ZXing).

// ShortBits is how many leading bits of the input's SM3 the short form
// carries.
const ShortBits = 100

// shortLen is the short form's length in base32 characters.
const shortLen = ShortBits / 5

// ShortPrefixLen is the length of a short form's bytes (ParseShortForm):
// the first 13 bytes of the hash, the last of them with its low 4 bits zero.
const ShortPrefixLen = (ShortBits + 7) / 8

const base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// ErrBadShortForm means a short form is not 20 base32 characters.
var ErrBadShortForm = errors.New("seal: not a sealing's short form (20 characters A–Z, 2–7)")

// ShortForm is the short form of an input SM3: its first 100 bits in base32,
// upper case.
func ShortForm(inputSM3 []byte) string {
	var b strings.Builder
	for i := 0; i < shortLen; i++ {
		v := 0
		for j := 0; j < 5; j++ {
			bit := i*5 + j
			if bit/8 < len(inputSM3) && inputSM3[bit/8]&(0x80>>(bit%8)) != 0 {
				v |= 1 << (4 - j)
			}
		}
		b.WriteByte(base32Upper[v])
	}
	return b.String()
}

// ParseShortForm reads a short form, in either case, as the hash prefix it
// stands for: ShortPrefixLen bytes, the last 4 bits zero.
func ParseShortForm(s string) ([]byte, error) {
	if len(s) != shortLen {
		return nil, fmt.Errorf("%w: %d characters", ErrBadShortForm, len(s))
	}
	out := make([]byte, ShortPrefixLen)
	for i := 0; i < shortLen; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		v := strings.IndexByte(base32Upper, c)
		if v < 0 {
			return nil, fmt.Errorf("%w: character %d is %q", ErrBadShortForm, i+1, s[i])
		}
		for j := 0; j < 5; j++ {
			if v&(1<<(4-j)) != 0 {
				bit := i*5 + j
				out[bit/8] |= 0x80 >> (bit % 8)
			}
		}
	}
	return out, nil
}

// HasShortPrefix reports whether sum begins with the ShortBits of prefix
// (ParseShortForm).
func HasShortPrefix(sum, prefix []byte) bool {
	if len(sum) < ShortPrefixLen || len(prefix) != ShortPrefixLen {
		return false
	}
	for i := 0; i < ShortBits/8; i++ {
		if sum[i] != prefix[i] {
			return false
		}
	}
	const rest = ShortBits % 8
	mask := byte(0xff << (8 - rest) & 0xff)
	return sum[ShortBits/8]&mask == prefix[ShortBits/8]&mask
}

// VerifyQR says which sealings draw the verification QR code, and what it
// leads to.
type VerifyQR struct {
	// BaseURL is where readers reach the service's page, scheme and host
	// and any path before /verify/, e.g. https://zwfw.example.gov.cn/eseal.
	BaseURL string
	// Items are the item codes whose sealings carry the code; All carries
	// it on every item's.
	Items map[string]bool
	All   bool
	// SizeMM is the code's side, quiet zone included (default 22 mm: a
	// version 3 code then has modules of 0.6 mm, 3.5 pixels at 150 dpi).
	SizeMM float64
}

// DefaultQRSizeMM is VerifyQR.SizeMM's default.
const DefaultQRSizeMM = 22

// Check says what is wrong with q's base URL, if anything.
func (q *VerifyQR) Check() error {
	_, err := q.prefix()
	return err
}

// For reports whether sealings of item draw the code.
func (q *VerifyQR) For(item string) bool {
	return q != nil && (q.All || q.Items[item])
}

// prefix is the URL before /VERIFY/R/: scheme and host upper-cased, the
// path as written without its trailing slash.
func (q *VerifyQR) prefix() (string, error) {
	u, err := url.Parse(q.BaseURL)
	if err != nil {
		return "", fmt.Errorf("verify QR base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("verify QR base URL %q: want http(s)://host[:port][/path], without user, query or fragment", q.BaseURL)
	}
	return strings.ToUpper(u.Scheme+"://"+u.Host) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// URL is what the code encodes for a document whose SM3 is inputSM3.
func (q *VerifyQR) URL(inputSM3 []byte) (string, error) {
	p, err := q.prefix()
	if err != nil {
		return "", err
	}
	return p + "/VERIFY/R/" + ShortForm(inputSM3), nil
}

// Symbol is the code to draw for a document whose SM3 is inputSM3.
func (q *VerifyQR) Symbol(inputSM3 []byte) (*pdf.QRCode, error) {
	text, err := q.URL(inputSM3)
	if err != nil {
		return nil, err
	}
	segs, err := goqr.MakeSegmentsOptimally(text, goqr.Medium, 1, 40)
	if err != nil {
		return nil, fmt.Errorf("verify QR: %w", err)
	}
	code, err := goqr.EncodeSegments(segs, goqr.Medium, 1, 40, -1, true)
	if err != nil {
		return nil, fmt.Errorf("verify QR: %w", err)
	}
	n := code.Size()
	modules := make([][]bool, n)
	for y := range modules {
		modules[y] = make([]bool, n)
		for x := range modules[y] {
			modules[y][x] = code.Module(x, y)
		}
	}
	size := q.SizeMM
	if size == 0 {
		size = DefaultQRSizeMM
	}
	return &pdf.QRCode{Modules: modules, SizeMM: size, Text: text}, nil
}
