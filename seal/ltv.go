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
// returned and stored.

// LTVSource gives the validation data every sealed document carries: the
// current CRLs, and the certificates above the seals (the CA's, the
// TSA's).
type LTVSource interface {
	ValidationData(ctx context.Context) (pdf.DSS, error)
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
	sum := sm3.Sum(out.Bytes())
	return out.Bytes(), sum[:], nil
}
