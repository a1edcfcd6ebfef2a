package archive

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/ronganxian/eseal/seal"
)

// Manifest says what a package holds, for whom it was made, and when. The
// ledger key signs it (manifest.sig), so it vouches for every file by its
// SM3, and for the end of the records: Records and LastSeq are what
// matched the filter when the package was made.
type Manifest struct {
	Format string `json:"format"`
	Filter Filter `json:"filter"`
	// Subscription is Filter.String(): the subscription attribute of
	// every record's event.
	Subscription string `json:"subscription"`
	// Source is the events' source attribute (the county service).
	Source string `json:"source"`
	// Exported is when the package was made; ExportedBy and Role who made
	// it.
	Exported   time.Time `json:"exported"`
	ExportedBy string    `json:"exportedBy"`
	Role       string    `json:"role"`
	// LedgerHead is the ledger's last sequence number when the package was
	// made: no record after LastSeq and up to it matched the filter.
	LedgerHead uint64 `json:"ledgerHead"`
	// Records is how many records the package holds, FirstSeq and LastSeq
	// the first's and the last's sequence numbers (0 when none).
	Records  int    `json:"records"`
	FirstSeq uint64 `json:"firstSeq"`
	LastSeq  uint64 `json:"lastSeq"`
	// Deleted lists the sealing records whose documents were deleted
	// under the retention policy: the package holds their records (with
	// the documents' SM3) but not the documents.
	Deleted []uint64 `json:"deleted,omitempty"`
	// Files lists every file but manifest.json, manifest.sig and
	// manifest.crt.
	Files []File `json:"files"`
}

// File is one file of a package.
type File struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	SM3  string `json:"sm3"` // hex
}

// manifestDomain separates manifest signatures from events' and
// checkpoints', which the same ledger key makes.
const manifestDomain = "eseal archive manifest v1"

// ManifestMessage is what manifest.sig signs: a domain string and the
// bytes of manifest.json, length-prefixed.
func ManifestMessage(manifest []byte) []byte {
	m := binary.BigEndian.AppendUint32(nil, uint32(len(manifestDomain)))
	m = append(m, manifestDomain...)
	m = binary.BigEndian.AppendUint64(m, uint64(len(manifest)))
	return append(m, manifest...)
}

// signManifest signs manifest (the bytes of manifest.json) with the ledger
// key.
func signManifest(manifest []byte, key crypto.Signer) ([]byte, error) {
	sig, err := key.Sign(rand.Reader, ManifestMessage(manifest), sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, fmt.Errorf("archive: signing the manifest: %w", err)
	}
	return sig, nil
}

// checkManifest checks that sig over manifest verifies under the
// certificate certDER, and that the certificate is a ledger-signing
// certificate under roots, valid at the time the manifest says it was
// made.
func checkManifest(manifest, sig, certDER []byte, roots *smx509.CertPool, at time.Time) error {
	cert, err := smx509.ParseCertificate(certDER)
	if err != nil {
		return fmt.Errorf("%s: %v", CertName, err)
	}
	if !seal.IsLedgerCertificate(cert) {
		return fmt.Errorf("%s: %q is not a ledger-signing certificate", CertName, cert.Subject.CommonName)
	}
	if _, err := cert.Verify(smx509.VerifyOptions{Roots: roots, CurrentTime: at,
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("%s: not under the trusted root at %s: %v", CertName, at.UTC().Format(time.RFC3339), err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pub) {
		return fmt.Errorf("%s: the key is not SM2", CertName)
	}
	if !sm2.VerifyASN1WithSM2(pub, nil, ManifestMessage(manifest), sig) {
		return fmt.Errorf("%s: the signature over %s does not verify", SignatureName, ManifestName)
	}
	return nil
}
