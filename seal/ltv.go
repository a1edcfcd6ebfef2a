package seal

import (
	"bytes"
	"context"
	"fmt"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/pdf"
)

// Long-term validation at sealing: when the Sealer has an LTV source, every
// sealed document gets, in an incremental update after its seal, a /DSS
// with the county's current CRL and the certificates its seal and
// timestamp chain to (pdf.AddDSS), so that it still verifies when the
// seal certificate has expired and the CRL is no longer published. The
// record's output digest is that of the document with its DSS, the one
// returned and stored. When the source's DocumentTimestamp says so, a
// document timestamp from the Sealer's TSA follows the DSS, as PAdES B-LTA
// has it.

// LTVSource gives the validation data every sealed document carries: the
// current CRLs, and the certificates above the seals (the CA's, the
// TSA's).
type LTVSource interface {
	ValidationData(ctx context.Context) (pdf.DSS, error)
	// A source may also have DocumentTimestamp() bool: true adds a
	// document timestamp after the DSS.
}

// addLTV appends the validation data to sealed, with the seal's own chain,
// and returns the document and its SM3 digest.
func (s *Sealer) addLTV(ctx context.Context, sealed []byte, chain []*smx509.Certificate) ([]byte, []byte, error) {
	data, err := s.LTV.ValidationData(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("long-term validation data: %w", err)
	}
	for _, c := range chain {
		data.Certs = append(data.Certs, c.Raw)
	}
	var out bytes.Buffer
	out.Grow(len(sealed) + 16<<10)
	if err := pdf.AddDSS(ctx, &out, bytes.NewReader(sealed), int64(len(sealed)), data, s.Limits); err != nil {
		return nil, nil, fmt.Errorf("long-term validation data: %w", err)
	}
	doc := out.Bytes()
	if lta, ok := s.LTV.(interface{ DocumentTimestamp() bool }); ok && lta.DocumentTimestamp() && s.Timestamping != nil {
		// PAdES B-LTA: a document timestamp over the document and its DSS.
		ts := s.Timestamping
		stamper := &stampingSigner{ctx: ctx, ts: ts}
		var stamped bytes.Buffer
		stamp := func(digest []byte) ([]byte, error) { return ts.TSA.Timestamp(ctx, oidSM3, digest) }
		if err := pdf.AddDocTimestamp(ctx, &stamped, bytes.NewReader(doc), int64(len(doc)), stamp, stamper.reserve(), s.Limits); err != nil {
			return nil, nil, fmt.Errorf("document timestamp: %w", err)
		}
		doc = stamped.Bytes()
	}
	sum := sm3.Sum(doc)
	return doc, sum[:], nil
}
