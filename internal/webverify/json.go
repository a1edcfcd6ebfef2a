package webverify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ronganxian/eseal/verify"
)

// The report's JSON is written here with encoding/json, in the form that
// sealapi.Report and protojson give it (the FileReport message of
// proto/seal/v1/verification.proto: lowerCamel names, every field present,
// int64 as a string, timestamps as RFC 3339 in UTC, null when absent),
// rather than through sealapi itself: that would link the generated
// gRPC stubs into the WebAssembly and more than double it (23.8 MB raw and
// 5.4 MB gzipped against 8.7 MB and 2.4 MB when measured). A test fills
// every field of a report and compares the two, so a field added to the
// API fails it until it is added here.

type fileJSON struct {
	Verdict    string          `json:"verdict"`
	Reasons    []string        `json:"reasons"`
	Size       string          `json:"size"`
	Signatures []signatureJSON `json:"signatures"`
	Warnings   []string        `json:"warnings"`
	Revisions  int32           `json:"revisions"`
	File       string          `json:"file"`
}

type signatureJSON struct {
	Field              string          `json:"field"`
	Signer             string          `json:"signer"`
	SealName           string          `json:"sealName"`
	TownshipCode       string          `json:"townshipCode"`
	ItemCode           string          `json:"itemCode"`
	ItemName           string          `json:"itemName"`
	CaseNo             string          `json:"caseNo"`
	Reason             string          `json:"reason"`
	SigningTime        *string         `json:"signingTime"`
	DigestAlgorithm    string          `json:"digestAlgorithm"`
	SignatureAlgorithm string          `json:"signatureAlgorithm"`
	DigestMatch        bool            `json:"digestMatch"`
	SignatureValid     bool            `json:"signatureValid"`
	Chain              []certJSON      `json:"chain"`
	ChainTrusted       bool            `json:"chainTrusted"`
	Revocation         string          `json:"revocation"`
	CoversWholeFile    bool            `json:"coversWholeFile"`
	Revision           int32           `json:"revision"`
	LaterRevisions     []revisionJSON  `json:"laterRevisions"`
	Valid              bool            `json:"valid"`
	Reasons            []string        `json:"reasons"`
	Warnings           []string        `json:"warnings"`
	Location           string          `json:"location"`
	Filter             string          `json:"filter"`
	SubFilter          string          `json:"subFilter"`
	SigningTimeSource  string          `json:"signingTimeSource"`
	KeyUsageOK         bool            `json:"keyUsageOk"`
	ValidAtSigningTime bool            `json:"validAtSigningTime"`
	RevokedAt          *string         `json:"revokedAt"`
	DocMDP             int32           `json:"docMdp"`
	Seals              []placementJSON `json:"seals"`
	ProvenTime         *string         `json:"provenTime"`
	TimeBasis          string          `json:"timeBasis"`
	Timestamp          *timestampJSON  `json:"timestamp"`
}

type timestampJSON struct {
	Time               *string `json:"time"`
	AccuracyMicros     string  `json:"accuracyMicros"`
	TSA                string  `json:"tsa"`
	TSASubject         string  `json:"tsaSubject"`
	TSASerial          string  `json:"tsaSerial"`
	Serial             string  `json:"serial"`
	Policy             string  `json:"policy"`
	HashAlgorithm      string  `json:"hashAlgorithm"`
	SignatureAlgorithm string  `json:"signatureAlgorithm"`
	ChainTrusted       bool    `json:"chainTrusted"`
	Valid              bool    `json:"valid"`
}

type placementJSON struct {
	Page    int32     `json:"page"`
	Rect    []float64 `json:"rect"`
	CropBox []float64 `json:"cropBox"`
	Drawn   bool      `json:"drawn"`
	OnPage  bool      `json:"onPage"`
}

type certJSON struct {
	Subject            string   `json:"subject"`
	Issuer             string   `json:"issuer"`
	Serial             string   `json:"serial"`
	NotBefore          *string  `json:"notBefore"`
	NotAfter           *string  `json:"notAfter"`
	KeyUsage           []string `json:"keyUsage"`
	SignatureValid     bool     `json:"signatureValid"`
	ValidAtSigningTime bool     `json:"validAtSigningTime"`
	TrustAnchor        bool     `json:"trustAnchor"`
	Revocation         string   `json:"revocation"`
}

type revisionJSON struct {
	Revision int32   `json:"revision"`
	Kind     string  `json:"kind"`
	Detail   string  `json:"detail"`
	Allowed  bool    `json:"allowed"`
	Objects  []int32 `json:"objects"`
	Pages    []int32 `json:"pages"`
}

// marshalReport writes r, named name, as the API's FileReport JSON.
func marshalReport(r *verify.FileReport, name string) ([]byte, error) {
	out := fileJSON{Verdict: string(r.Verdict), Reasons: problems(r.Reasons), Size: strconv.FormatInt(r.Size, 10),
		Signatures: []signatureJSON{}, Warnings: problems(r.Warnings), Revisions: int32(r.Revisions), File: name}
	for _, s := range r.Signatures {
		sj := signatureJSON{
			Field: s.Field, Signer: s.Signer, SealName: s.SealName, TownshipCode: s.Township,
			ItemCode: s.ItemCode, ItemName: s.ItemName, CaseNo: s.CaseNumber, Reason: s.Reason,
			SigningTime: timestamp(s.SigningTime), DigestAlgorithm: s.DigestAlgorithm, SignatureAlgorithm: s.SignatureAlgorithm,
			DigestMatch: s.DigestMatch, SignatureValid: s.SignatureValid, Chain: []certJSON{}, ChainTrusted: s.ChainTrusted,
			Revocation: string(s.Revocation), CoversWholeFile: s.CoversWholeFile, Revision: int32(s.Revision),
			LaterRevisions: []revisionJSON{}, Valid: s.Valid, Reasons: problems(s.Reasons), Warnings: problems(s.Warnings),
			Location: s.Location, Filter: s.Filter, SubFilter: s.SubFilter, SigningTimeSource: s.SigningTimeSource,
			KeyUsageOK: s.KeyUsageOK, ValidAtSigningTime: s.ValidAtSigningTime, RevokedAt: timestamp(s.RevokedAt),
			DocMDP: int32(s.DocMDP), Seals: []placementJSON{}, ProvenTime: timestamp(s.ProvenTime), TimeBasis: s.TimeBasis,
		}
		if ts := s.Timestamp; ts != nil {
			sj.Timestamp = &timestampJSON{Time: timestamp(ts.Time), AccuracyMicros: strconv.FormatInt(ts.Accuracy.Microseconds(), 10),
				TSA: ts.TSA, TSASubject: ts.TSASubject, TSASerial: ts.TSASerial, Serial: ts.Serial, Policy: ts.Policy,
				HashAlgorithm: ts.HashAlgorithm, SignatureAlgorithm: ts.SignatureAlgorithm,
				ChainTrusted: ts.ChainTrusted, Valid: ts.Valid}
		}
		for _, c := range s.Chain {
			sj.Chain = append(sj.Chain, certJSON{Subject: c.Subject, Issuer: c.Issuer, Serial: c.Serial,
				NotBefore: timestamp(c.NotBefore), NotAfter: timestamp(c.NotAfter), KeyUsage: nonNil(c.KeyUsage),
				SignatureValid: c.SignatureValid, ValidAtSigningTime: c.ValidAtSigningTime, TrustAnchor: c.TrustAnchor,
				Revocation: string(c.Revocation)})
		}
		for _, c := range s.LaterRevisions {
			sj.LaterRevisions = append(sj.LaterRevisions, revisionJSON{Revision: int32(c.Revision), Kind: c.Kind,
				Detail: c.Detail, Allowed: c.Allowed, Objects: int32s(c.Objects), Pages: int32s(c.Pages)})
		}
		for _, p := range s.Seals {
			sj.Seals = append(sj.Seals, placementJSON{Page: int32(p.Page), Rect: rect(p.Rect), CropBox: rect(p.CropBox),
				Drawn: p.Drawn, OnPage: p.OnPage})
		}
		out.Signatures = append(out.Signatures, sj)
	}
	return json.MarshalIndent(out, "", "  ")
}

// problems says each problem as "CODE: meaning: detail".
func problems(ps []verify.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// timestamp is t as protojson writes a Timestamp (UTC, with 0, 3, 6 or
// 9 fractional digits), or nil for the zero time.
func timestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	switch ns := t.Nanosecond(); {
	case ns == 0:
	case ns%1e6 == 0:
		s += fmt.Sprintf(".%03d", ns/1e6)
	case ns%1e3 == 0:
		s += fmt.Sprintf(".%06d", ns/1e3)
	default:
		s += fmt.Sprintf(".%09d", ns)
	}
	s += "Z"
	return &s
}

func nonNil(a []string) []string {
	if a == nil {
		return []string{}
	}
	return a
}

func int32s(a []int) []int32 {
	out := make([]int32, len(a))
	for i, v := range a {
		out[i] = int32(v)
	}
	return out
}

// rect is a rectangle as the API gives it: empty when zero.
func rect(r [4]float64) []float64 {
	if r == [4]float64{} {
		return []float64{}
	}
	return r[:]
}
