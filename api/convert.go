package api

import (
	"fmt"
	"math"

	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/pdf"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func townshipToProto(t seal.Township) *sealv1.Township {
	return &sealv1.Township{Code: t.Code, Name: t.Name, Kind: t.Kind, SealName: t.SealName}
}

func itemToProto(it seal.Item) *sealv1.Item {
	return &sealv1.Item{
		Code: it.Code, Name: it.Name, Type: it.Type, Window: string(it.Window), Domain: it.Domain,
		Supervisor: it.Supervisor, LegalBasis: it.LegalBasis, TimeLimitDays: int32(it.TimeLimitDays),
		Documents: it.Documents, Active: it.Active,
	}
}

func principalToProto(p store.PrincipalInfo) *sealv1.Principal {
	out := &sealv1.Principal{Id: p.ID, Name: p.Name, Role: string(p.Role), TownshipCode: p.Township,
		Domains: p.Domains, Disabled: p.Disabled}
	for _, w := range p.Windows {
		out.Windows = append(out.Windows, string(w))
	}
	return out
}

func sealToProto(s keystore.Seal) *sealv1.Seal {
	out := &sealv1.Seal{
		Id: s.ID, TownshipCode: s.TownshipCode, Name: s.Name, State: string(s.State), Certificate: s.Certificate,
	}
	if s.Serial != nil {
		out.CertSerial = fmt.Sprintf("%x", s.Serial)
	}
	if !s.NotBefore.IsZero() {
		out.NotBefore, out.NotAfter = timestamppb.New(s.NotBefore), timestamppb.New(s.NotAfter)
	}
	if s.State == keystore.StateRevoked {
		out.RevocationReason = s.RevocationReason.String()
		out.RevokedAt = timestamppb.New(s.EndedAt)
	}
	return out
}

// maxMM bounds placement coordinates: no page is a kilometre wide.
const maxMM = 10000

func finiteMM(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxMM {
			return false
		}
	}
	return true
}

// placementsFromProto maps the API's placement to the engine's.
func placementsFromProto(p *sealv1.Placement) ([]pdf.Placement, error) {
	if p == nil || p.Mode == nil {
		return nil, nil
	}
	switch m := p.Mode.(type) {
	case *sealv1.Placement_Explicit:
		e := m.Explicit
		corner, err := parseCorner(e.Corner)
		if err != nil {
			return nil, err
		}
		if !finiteMM(e.XMm, e.YMm) {
			return nil, fmt.Errorf("placement coordinates out of range")
		}
		return []pdf.Placement{pdf.At{Page: int(e.Page), Corner: corner, X: e.XMm, Y: e.YMm}}, nil
	case *sealv1.Placement_Keyword:
		k := m.Keyword
		if k.Text == "" || len(k.Text) > 256 {
			return nil, fmt.Errorf("keyword must be 1 to 256 bytes")
		}
		if !finiteMM(k.OffsetXMm, k.OffsetYMm) {
			return nil, fmt.Errorf("keyword offset out of range")
		}
		return []pdf.Placement{pdf.Keyword{Text: k.Text, Occurrence: int(k.Occurrence), DX: k.OffsetXMm, DY: k.OffsetYMm}}, nil
	case *sealv1.Placement_Riding:
		r := m.Riding
		if !finiteMM(r.YMm) || len(r.Pages) > 10000 {
			return nil, fmt.Errorf("cross-page seal out of range")
		}
		pages := make([]int, len(r.Pages))
		for i, n := range r.Pages {
			pages[i] = int(n)
		}
		return []pdf.Placement{pdf.Riding{Pages: pages, Y: r.YMm}}, nil
	}
	return nil, fmt.Errorf("unknown placement")
}

func parseCorner(s string) (pdf.Corner, error) {
	switch s {
	case "", "bottom-left":
		return pdf.BottomLeft, nil
	case "top-left":
		return pdf.TopLeft, nil
	case "top-right":
		return pdf.TopRight, nil
	case "bottom-right":
		return pdf.BottomRight, nil
	}
	return 0, fmt.Errorf("corner %q is not bottom-left, top-left, top-right or bottom-right", s)
}
