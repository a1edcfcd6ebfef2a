package pdf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
)

// Encrypted documents (ISO 32000-2 §7.6): the standard security handler,
// revisions 2 to 6 (RC4 40 to 128 bits, AES-128, AES-256), opened with the
// empty user password, which is how documents that restrict only what a
// reader may do are protected. The engine decrypts the streams it reads
// (object streams, page content, CMaps) and encrypts the strings and
// streams of the objects it adds, as the file requires. Existing objects
// it rewrites keep their encrypted strings: the key of an object depends
// on its number and generation, which stay the same. The signature's
// /Contents is not encrypted, as the standard says, so that it can be
// patched after signing.

type cryptMethod uint8

const (
	cryptNone cryptMethod = iota
	cryptRC4
	cryptAESV2 // AES-128
	cryptAESV3 // AES-256
)

type crypt struct {
	key             []byte
	stm, str        cryptMethod
	encryptMetadata bool
}

// passwordPad pads passwords for revisions 2–4 (Algorithm 2).
var passwordPad = []byte{
	0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
	0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
}

// Permission bits of /P that sealing needs: adding a signature field and
// annotations (bit 6).
const permAnnotateAndForms = 1 << 5

func encrypted(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrEncrypted, fmt.Sprintf(format, args...))
}

// setupCrypt reads the /Encrypt dictionary and derives the file key from
// the empty user password. A document without one (absent, or null, which
// PDF treats alike) needs nothing and gets nothing.
//
// An /Encrypt that refers to an object the cross-reference data does not
// define (or marks free) is null too: ISO 32000-2 §7.3.10 makes such a
// reference the null object, and §7.3.7 a null entry an absent one. pdf.js
// and PDFBox read such a file as unencrypted, and qpdf, which treats a
// null value as no key, as well. The entry is made null in the trailer as
// read, so that the sealing revision writes /Encrypt null: it must not
// carry the reference on, and it must not leave the entry out either,
// since readers then take the older trailer's (xref.go, as PDFBox merges
// trailers), and the sealing revision's new objects may take the number
// and become an "encryption dictionary". A file whose cross-reference data is broken never gets
// here with a dangling /Encrypt: the rebuild refuses it (see rebuild),
// since there the object may exist and be damaged, its document
// encrypted.
func (d *document) setupCrypt() error {
	if d.trailer.get("Encrypt") == nil {
		return nil
	}
	if r, ok := d.trailer.get("Encrypt").(ref); ok {
		if e, defined := d.xref[r.num]; !defined || e.kind == xrefFree || int(e.gen) != r.gen {
			tr := d.trailer.clone()
			tr.set("Encrypt", nil)
			d.trailer = tr
			return nil
		}
	}
	ed, err := d.getDict(d.trailer.get("Encrypt"), "/Encrypt")
	if err != nil {
		return err
	}
	if f := nameOf(ed.get("Filter")); f != "Standard" {
		return encrypted("security handler /%s is not the standard one (a certificate or DRM handler); remove the protection before sealing", f)
	}
	v, _ := asInt(ed.get("V"))
	r, _ := asInt(ed.get("R"))
	p, _ := asInt(ed.get("P"))
	o, _ := ed.get("O").(str)
	u, _ := ed.get("U").(str)
	c := &crypt{encryptMetadata: true}
	if em, ok := ed.get("EncryptMetadata").(bool); ok {
		c.encryptMetadata = em
	}
	var id0 []byte
	if ida, ok := d.trailer.get("ID").(array); ok && len(ida) > 0 {
		s, _ := ida[0].(str)
		id0 = s
	}
	switch {
	case (v == 1 || v == 2) && (r == 2 || r == 3):
		c.stm, c.str = cryptRC4, cryptRC4
	case v == 4 && r == 4:
		if c.stm, err = d.cryptFilter(ed, "StmF"); err != nil {
			return err
		}
		if c.str, err = d.cryptFilter(ed, "StrF"); err != nil {
			return err
		}
	case v == 5 && (r == 5 || r == 6):
		c.stm, c.str = cryptAESV3, cryptAESV3
		if c.stm, err = d.cryptFilter(ed, "StmF"); err != nil {
			return err
		}
		if c.str, err = d.cryptFilter(ed, "StrF"); err != nil {
			return err
		}
	default:
		return encrypted("standard security handler V%d R%d is not supported", v, r)
	}
	if r <= 4 {
		n := 5
		if r >= 3 {
			l, ok := asInt(ed.get("Length"))
			if !ok {
				l = 40
			}
			if l < 40 || l > 128 || l%8 != 0 {
				return encrypted("key length %d", l)
			}
			n = int(l / 8)
		}
		if len(o) < 32 || len(u) < 32 {
			return encrypted("/O or /U is too short")
		}
		c.key = legacyKey(o[:32], int32(p), id0, n, int(r), c.encryptMetadata)
		if !legacyUserOK(c.key, u, id0, int(r)) {
			return encrypted("the document needs a password to open; remove the protection before sealing")
		}
	} else {
		ue, _ := ed.get("UE").(str)
		oe, _ := ed.get("OE").(str)
		if len(u) < 48 || len(ue) < 32 {
			return encrypted("/U or /UE is too short")
		}
		// The empty password opens the document as its user, or, when
		// the owner password is the empty one (pdf.js's pr6531_2.pdf),
		// as its owner (ISO 32000-2 §7.6.4.3.3, Algorithms 2.A, 11, 12):
		// either way no password is needed, as qpdf and PDFBox find.
		var ik, wrapped []byte
		switch {
		case bytes.Equal(hash2B(nil, u[32:40], nil, int(r)), u[:32]):
			ik, wrapped = hash2B(nil, u[40:48], nil, int(r)), ue
		case len(o) >= 48 && len(oe) >= 32 && bytes.Equal(hash2B(nil, o[32:40], u[:48], int(r)), o[:32]):
			ik, wrapped = hash2B(nil, o[40:48], u[:48], int(r)), oe
		default:
			return encrypted("the document needs a password to open; remove the protection before sealing")
		}
		block, _ := aes.NewCipher(ik)
		c.key = make([]byte, 32)
		cipher.NewCBCDecrypter(block, make([]byte, 16)).CryptBlocks(c.key, wrapped[:32])
	}
	if int32(p)&permAnnotateAndForms == 0 {
		return encrypted("its permissions (/P %d) forbid adding signature fields", int32(p))
	}
	d.crypt = c
	return nil
}

// cryptFilter reads the method of the crypt filter named by key (StmF or
// StrF).
func (d *document) cryptFilter(ed dict, key name) (cryptMethod, error) {
	fn := nameOf(ed.get(key))
	if fn == "" || fn == "Identity" {
		return cryptNone, nil
	}
	// /CF, each filter in it and its /CFM may be indirect (pdf.js's
	// issue7665.pdf); an encryption dictionary's objects are never
	// encrypted, so they can be read before the key is known.
	cfo, err := d.resolve(ed.get("CF"))
	if err != nil {
		return 0, err
	}
	cf, _ := cfo.(dict)
	fo, err := d.resolve(cf.get(fn))
	if err != nil {
		return 0, err
	}
	f, ok := fo.(dict)
	if !ok {
		return 0, encrypted("crypt filter /%s named by /%s is not defined in /CF", fn, key)
	}
	mo, err := d.resolve(f.get("CFM"))
	if err != nil {
		return 0, err
	}
	switch m := nameOf(mo); m {
	case "V2":
		return cryptRC4, nil
	case "AESV2":
		return cryptAESV2, nil
	case "AESV3":
		return cryptAESV3, nil
	case "None":
		return cryptNone, nil
	default:
		return 0, encrypted("crypt filter /%s has method /%s, which is not supported", fn, m)
	}
}

// legacyKey is Algorithm 2 with the empty password.
func legacyKey(o []byte, p int32, id0 []byte, n, r int, encryptMetadata bool) []byte {
	h := md5.New()
	h.Write(passwordPad)
	h.Write(o)
	binary.Write(h, binary.LittleEndian, p)
	h.Write(id0)
	if r >= 4 && !encryptMetadata {
		h.Write([]byte{0xFF, 0xFF, 0xFF, 0xFF})
	}
	key := h.Sum(nil)[:n]
	if r >= 3 {
		for range 50 {
			s := md5.Sum(key)
			key = s[:n]
		}
	}
	return key
}

// legacyUserOK is Algorithms 4 and 5: whether key opens the document.
func legacyUserOK(key, u, id0 []byte, r int) bool {
	if r == 2 {
		out := make([]byte, 32)
		c, _ := rc4.NewCipher(key)
		c.XORKeyStream(out, passwordPad)
		return bytes.Equal(out, u[:32])
	}
	h := md5.New()
	h.Write(passwordPad)
	h.Write(id0)
	x := h.Sum(nil)
	k := make([]byte, len(key))
	for i := range 20 {
		for j := range key {
			k[j] = key[j] ^ byte(i)
		}
		c, _ := rc4.NewCipher(k)
		c.XORKeyStream(x, x)
	}
	return bytes.Equal(x, u[:16])
}

// hash2B is Algorithm 2.B (revision 6; revision 5 is plain SHA-256).
func hash2B(password, salt, udata []byte, r int) []byte {
	h := sha256.New()
	h.Write(password)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	if r == 5 {
		return k
	}
	var e []byte
	for i := 0; i < 64 || int(e[len(e)-1]) > i-32; i++ {
		seq := make([]byte, 0, len(password)+len(k)+len(udata))
		seq = append(append(append(seq, password...), k...), udata...)
		k1 := bytes.Repeat(seq, 64)
		block, _ := aes.NewCipher(k[:16])
		e = make([]byte, len(k1))
		cipher.NewCBCEncrypter(block, k[16:32]).CryptBlocks(e, k1)
		sum := 0
		for _, b := range e[:16] {
			sum += int(b)
		}
		var hh hash.Hash
		switch sum % 3 {
		case 0:
			hh = sha256.New()
		case 1:
			hh = sha512.New384()
		default:
			hh = sha512.New()
		}
		hh.Write(e)
		k = hh.Sum(nil)
	}
	return k[:32]
}

// objectKey is Algorithm 1: the key for one object.
func (c *crypt) objectKey(r ref, m cryptMethod) []byte {
	if m == cryptAESV3 {
		return c.key
	}
	h := md5.New()
	h.Write(c.key)
	h.Write([]byte{byte(r.num), byte(r.num >> 8), byte(r.num >> 16), byte(r.gen), byte(r.gen >> 8)})
	if m == cryptAESV2 {
		h.Write([]byte("sAlT"))
	}
	return h.Sum(nil)[:min(len(c.key)+5, 16)]
}

func (c *crypt) decrypt(r ref, m cryptMethod, data []byte) ([]byte, error) {
	switch m {
	case cryptNone:
		return data, nil
	case cryptRC4:
		out := make([]byte, len(data))
		rc, _ := rc4.NewCipher(c.objectKey(r, m))
		rc.XORKeyStream(out, data)
		return out, nil
	}
	if len(data) < 16 || len(data)%16 != 0 {
		return nil, damaged(-1, "AES-encrypted data of object %d is %d bytes, not whole blocks", r.num, len(data))
	}
	block, _ := aes.NewCipher(c.objectKey(r, m))
	out := make([]byte, len(data)-16)
	cipher.NewCBCDecrypter(block, data[:16]).CryptBlocks(out, data[16:])
	if n := len(out); n > 0 {
		if pad := int(out[n-1]); pad >= 1 && pad <= 16 && pad <= n {
			out = out[:n-pad]
		}
	}
	return out, nil
}

func (c *crypt) encrypt(r ref, m cryptMethod, data []byte) []byte {
	switch m {
	case cryptNone:
		return data
	case cryptRC4:
		out := make([]byte, len(data))
		rc, _ := rc4.NewCipher(c.objectKey(r, m))
		rc.XORKeyStream(out, data)
		return out
	}
	pad := 16 - len(data)%16
	plain := append(bytes.Clone(data), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, 16+len(plain))
	if _, err := rand.Read(out[:16]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	block, _ := aes.NewCipher(c.objectKey(r, m))
	cipher.NewCBCEncrypter(block, out[:16]).CryptBlocks(out[16:], plain)
	return out
}

// encryptObject returns o with its strings and stream data encrypted as
// object r of an encrypted file requires.
func (c *crypt) encryptObject(r ref, o object) object {
	switch v := o.(type) {
	case str:
		return str(c.encrypt(r, c.str, v))
	case array:
		out := make(array, len(v))
		for i, e := range v {
			out[i] = c.encryptObject(r, e)
		}
		return out
	case dict:
		out := make(dict, len(v))
		for i, e := range v {
			out[i] = dictEntry{e.key, c.encryptObject(r, e.val)}
		}
		return out
	case *stream:
		return &stream{dict: c.encryptObject(r, v.dict).(dict), data: c.encrypt(r, c.stm, v.data)}
	}
	return o
}
