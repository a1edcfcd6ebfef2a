package cms

import (
	"bytes"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

var testPolicy = mustOID("2.25.1234567890123456789012345678901234567")

func mustOID(s string) smx509.OID {
	oid, err := smx509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return oid
}

func TestTSTInfoRoundTrip(t *testing.T) {
	imprint := sm3.Sum([]byte("signature value"))
	for _, tc := range []struct {
		name string
		in   TSTInfo
		want string // genTime as written
	}{
		{"micros", TSTInfo{GenTime: time.Date(2026, 12, 3, 9, 1, 2, 345678000, time.UTC), Accuracy: 1500 * time.Millisecond,
			Nonce: big.NewInt(77), TSAName: []byte{0x82, 0x01, 'x'}}, "20261203090102.345678Z"},
		{"whole second", TSTInfo{GenTime: time.Date(2026, 12, 3, 9, 1, 2, 0, time.FixedZone("CST", 8*3600)),
			Accuracy: 250 * time.Microsecond, Ordering: true}, "20261203010102Z"},
		{"trailing zeros dropped", TSTInfo{GenTime: time.Date(2026, 1, 1, 0, 0, 0, 500000000, time.UTC)}, "20260101000000.5Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Policy, in.HashAlgorithm, in.HashedMessage, in.SerialNumber = testPolicy, oidSM3, imprint[:], big.NewInt(1<<40+3)
			der, err := in.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(der, []byte(tc.want)) {
				t.Errorf("genTime not written as %s in % x", tc.want, der)
			}
			got, err := ParseTSTInfo(der)
			if err != nil {
				t.Fatal(err)
			}
			if !got.GenTime.Equal(in.GenTime.Truncate(time.Microsecond)) || got.Accuracy != in.Accuracy ||
				got.SerialNumber.Cmp(in.SerialNumber) != 0 || got.Ordering != in.Ordering ||
				(in.Nonce == nil) != (got.Nonce == nil) || !bytes.Equal(got.TSAName, in.TSAName) ||
				!got.Policy.Equal(testPolicy) || !bytes.Equal(got.HashedMessage, imprint[:]) {
				t.Errorf("round trip: got %+v, want %+v", got, in)
			}
		})
	}
}

func TestParseTSTInfoRejects(t *testing.T) {
	good := TSTInfo{Policy: testPolicy, HashAlgorithm: oidSM3, HashedMessage: make([]byte, 32), SerialNumber: big.NewInt(1),
		GenTime: time.Date(2026, 12, 3, 9, 1, 2, 0, time.UTC)}
	der, err := good.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"trailing":    append(bytes.Clone(der), 0),
		"local time":  bytes.Replace(der, []byte("20261203090102Z"), []byte("20261203090102+"), 1),
		"version 2":   bytes.Replace(der, []byte{0x02, 0x01, 0x01, 0x06}, []byte{0x02, 0x01, 0x02, 0x06}, 1),
		"truncated":   der[:len(der)-3],
		"empty input": nil,
	} {
		if _, err := ParseTSTInfo(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}

// stampFor makes a token as the county TSA would, over data's SM3.
func stampFor(t *testing.T, tsa *Signer, data []byte, withCerts bool) []byte {
	t.Helper()
	sum := sm3.Sum(data)
	info := TSTInfo{Policy: testPolicy, HashAlgorithm: oidSM3, HashedMessage: sum[:], SerialNumber: big.NewInt(9),
		GenTime: time.Now(), Accuracy: time.Second}
	der, err := info.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	token, err := tsa.SignTSTInfo(der, info.GenTime, withCerts)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestTimeStampTokenOnSignature(t *testing.T) {
	sealer, _ := newTestSigner(t, ProfileDefault, 2)
	tsa, _ := newTestSigner(t, ProfileGMT0010, 2) // a token is PKCS#7 whatever the profile
	sig, err := sealer.Sign(bytes.NewReader(testContent), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(sig, bytes.NewReader(testContent), nil)
	if err != nil || res.TimeStampToken != nil {
		t.Fatalf("before: %v, token %x", err, res.TimeStampToken)
	}
	token := stampFor(t, tsa, res.Signature, true)
	if len(token) > tsa.Size(time.Now())+32+MaxTSTInfoOverhead+64 {
		t.Errorf("token of %d bytes exceeds the bound", len(token))
	}
	stamped, err := AddTimeStampToken(sig, token)
	if err != nil {
		t.Fatal(err)
	}
	if grow := len(stamped) - len(sig); grow > TimeStampTokenSize(len(token)) || grow < len(token) {
		t.Errorf("grew by %d for a %d-byte token; bound %d", grow, len(token), TimeStampTokenSize(len(token)))
	}
	res, err = Verify(stamped, bytes.NewReader(testContent), nil)
	if err != nil {
		t.Fatalf("the signature no longer verifies with the token added: %v", err)
	}
	if !bytes.Equal(res.TimeStampToken, token) {
		t.Fatal("the token read back differs from the one added")
	}
	if _, err := AddTimeStampToken(stamped, token); !errors.Is(err, ErrHasTimeStamp) {
		t.Errorf("second token: err %v, want ErrHasTimeStamp", err)
	}
	tr, err := VerifyTimeStampToken(res.TimeStampToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if quick, err := TokenTSTInfo(res.TimeStampToken); err != nil || !quick.GenTime.Equal(tr.TSTInfo.GenTime) ||
		quick.SerialNumber.Cmp(tr.TSTInfo.SerialNumber) != 0 {
		t.Errorf("TokenTSTInfo: %+v, %v; verified %+v", quick, err, tr.TSTInfo)
	}
	if _, err := TokenTSTInfo(sig); !errors.Is(err, ErrNotTimeStampToken) {
		t.Errorf("TokenTSTInfo of a signature: %v", err)
	}
	if tr.Signer.SerialNumber.Cmp(tsa.Certificate().SerialNumber) != 0 {
		t.Error("token signer is not the TSA certificate")
	}
	if ok, err := tr.TSTInfo.Covers(res.Signature); !ok || err != nil {
		t.Errorf("imprint does not cover the signature value: %v %v", ok, err)
	}
	if ok, _ := tr.TSTInfo.Covers(append(bytes.Clone(res.Signature), 0)); ok {
		t.Error("imprint covers other bytes too")
	}
}

func TestVerifyTimeStampTokenRejects(t *testing.T) {
	tsa, _ := newTestSigner(t, ProfileDefault, 2)
	token := stampFor(t, tsa, []byte("x"), true)
	noCerts := stampFor(t, tsa, []byte("x"), false)
	detached, err := tsa.Sign(bytes.NewReader([]byte("x")), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(token)
	i := bytes.Index(flipped, []byte("2026")) // inside the TSTInfo's genTime
	if i < 0 {
		i = len(flipped) / 3
	}
	flipped[i] ^= 1
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"a detached signature": {detached, ErrMalformed},
		"no certificates":      {noCerts, ErrSignerCertNotFound},
		"TSTInfo changed":      {flipped, ErrDigestMismatch},
	} {
		if _, err := VerifyTimeStampToken(tc.in, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", name, err, tc.want)
		}
	}
}

func TestSignDigestWithTimeStamp(t *testing.T) {
	sealer, _ := newTestSigner(t, ProfileDefault, 2)
	tsa, _ := newTestSigner(t, ProfileDefault, 2)
	digest := sm3.Sum(testContent)
	var stamped []byte
	der, err := sealer.SignDigestWithTimeStamp(digest[:], time.Now(), func(sig []byte) ([]byte, error) {
		stamped = bytes.Clone(sig)
		return stampFor(t, tsa, sig, true), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(der, bytes.NewReader(testContent), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Signature, stamped) || res.TimeStampToken == nil {
		t.Fatal("the token is not over the signature value, or missing")
	}
	if len(der) > sealer.Size(time.Now())+TimeStampTokenSize(len(res.TimeStampToken)) {
		t.Errorf("%d bytes exceed Size plus TimeStampTokenSize", len(der))
	}
	// No token: the same as SignDigest.
	der, err = sealer.SignDigestWithTimeStamp(digest[:], time.Now(), func([]byte) ([]byte, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	if res, err := Verify(der, bytes.NewReader(testContent), nil); err != nil || res.TimeStampToken != nil {
		t.Fatalf("without a token: %v, token %x", err, res.TimeStampToken)
	}
	boom := errors.New("TSA down")
	if _, err := sealer.SignDigestWithTimeStamp(digest[:], time.Now(), func([]byte) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("stamp's error: got %v", err)
	}
}
