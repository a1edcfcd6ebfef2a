package service

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ronganxian/eseal/api"
	"github.com/ronganxian/eseal/internal/atomicfile"
	"github.com/ronganxian/eseal/internal/democatalog"
	"github.com/ronganxian/eseal/keystore"
	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

// DemoCAName marks the demo CA as a test CA in every certificate it issues.
const DemoCAName = "融安县电子印章演示CA (TEST ONLY 仅供测试)"

// EnsureKEK creates the KEK file (mode 0600) if it does not exist.
func EnsureKEK(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	_, err := keystore.WriteKEKFile(path)
	return err
}

// EnsureCA creates the county CA if the keystore has none.
func (s *Service) EnsureCA(ctx context.Context, name, org string) error {
	if _, err := s.Keystore.CA(ctx); err == nil {
		return nil
	} else if !errors.Is(err, keystore.ErrNoCA) {
		return err
	}
	_, err := s.Keystore.CreateCA(ctx, keystore.CAOptions{CommonName: name, Organization: org})
	return err
}

// WriteTrust writes the trust bundle to DataDir/trust/root.pem.
func (s *Service) WriteTrust(ctx context.Context) (string, error) {
	bundle, err := s.Keystore.TrustBundle(ctx)
	if err != nil {
		return "", err
	}
	// root.pem holds the self-signed root: the last certificate.
	var root []byte
	for rest := bundle; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		root = pem.EncodeToMemory(b)
	}
	dir := filepath.Join(s.Config.DataDir, "trust")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "root.pem")
	if err := atomicfile.WriteFile(p, root, 0o644); err != nil {
		return "", err
	}
	return p, atomicfile.WriteFile(filepath.Join(dir, "bundle.pem"), bundle, 0o644)
}

// PrepareDemo fills the service for the demo, once: the demo CA, the
// embedded catalog of 融安县's twelve townships, one active seal each, the
// CRL, and credential files for the county office, each township's two
// windows and each domain's supervisor. A later call finds it all there and
// changes nothing.
func (s *Service) PrepareDemo(ctx context.Context) error {
	if err := s.EnsureCA(ctx, DemoCAName, "融安县政务服务监督管理办公室 (演示)"); err != nil {
		return fmt.Errorf("demo CA: %w", err)
	}
	c, err := democatalog.Load()
	if err != nil {
		return err
	}
	if _, err := s.Store.Township(ctx, c.Townships[0].Code); errors.Is(err, store.ErrNotFound) {
		if err := s.Store.ImportCatalog(ctx, c); err != nil {
			return fmt.Errorf("demo catalog: %w", err)
		}
	} else if err != nil {
		return err
	}
	for _, t := range c.Townships {
		if _, err := s.Keystore.LiveSeal(ctx, t.Code); err == nil {
			continue
		} else if !errors.Is(err, keystore.ErrNoSeal) {
			return err
		}
		if _, err := s.Keystore.IssueActive(ctx, keystore.SealRequest{TownshipCode: t.Code, Organization: t.Government(), Name: t.SealName}); err != nil {
			return fmt.Errorf("seal of %s: %w", t.Name, err)
		}
	}
	if _, err := s.Keystore.CRL(ctx); err != nil {
		if _, err := s.Keystore.PublishCRL(ctx); err != nil {
			return fmt.Errorf("CRL: %w", err)
		}
	}
	if _, err := s.WriteTrust(ctx); err != nil {
		return err
	}

	creds := filepath.Join(s.Config.DataDir, "credentials")
	if err := os.MkdirAll(creds, 0o700); err != nil {
		return err
	}
	principals := []seal.Principal{{ID: "admin", Name: "县政务服务监督管理办公室 (演示)", Role: seal.RoleAdmin}}
	for _, t := range c.Townships {
		principals = append(principals,
			seal.Principal{ID: t.Code + "-approval", Name: t.Name + "行政审批专窗", Role: seal.RoleClerk, Township: t.Code, Windows: []seal.Window{seal.WindowApproval}},
			seal.Principal{ID: t.Code + "-service", Name: t.Name + "综合服务专窗", Role: seal.RoleClerk, Township: t.Code, Windows: []seal.Window{seal.WindowService}})
	}
	domains := map[string]string{}
	for _, it := range c.Items {
		if it.Window != seal.WindowDispatched {
			domains[it.Domain] = it.Supervisor
		}
	}
	names := make([]string, 0, len(domains))
	for d := range domains {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		principals = append(principals, seal.Principal{ID: "supervisor-" + d, Name: domains[d], Role: seal.RoleSupervisor, Domains: []string{d}})
	}
	for _, p := range principals {
		if err := s.ensureCredential(ctx, creds, p); err != nil {
			return err
		}
	}
	return nil
}

// ensureCredential gives p a token file, creating p if needed. The token
// expires after token_ttl. A principal whose file was lost, or whose token
// in it no longer works (it expired), gets a new token; an old one keeps
// working until it expires.
func (s *Service) ensureCredential(ctx context.Context, dir string, p seal.Principal) error {
	path := filepath.Join(dir, p.ID+".token")
	if b, err := os.ReadFile(path); err == nil {
		_, err := s.Store.PrincipalByCredential(ctx, store.CredentialToken, api.TokenHash(strings.TrimSpace(string(b))), time.Now())
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("principal %s: %w", p.ID, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	ttl := time.Duration(s.Config.TokenTTL)
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	token, hash := api.NewToken()
	cred := store.Credential{Kind: store.CredentialToken, Hash: hash, Expires: time.Now().Add(ttl)}
	err := s.Store.CreatePrincipal(ctx, p, cred)
	if errors.Is(err, store.ErrExists) {
		err = s.Store.AddCredential(ctx, p.ID, cred)
	}
	if err != nil {
		return fmt.Errorf("principal %s: %w", p.ID, err)
	}
	return atomicfile.WriteFile(path, []byte(token+"\n"), 0o600)
}

// RotateKEK writes a new KEK file at path and rewraps every key under it,
// and the event receivers' credentials (outbox.ResealSecrets). The file is
// written first, so a failed rotation leaves a spare file but every key
// still under the old KEK.
func (s *Service) RotateKEK(ctx context.Context, path string) error {
	next, err := keystore.WriteKEKFile(path)
	if err != nil {
		return err
	}
	rotate := func() error { return s.Keystore.RotateKEK(ctx, next) }
	if s.Outbox == nil {
		return rotate()
	}
	return s.Outbox.ResealSecrets(ctx, rotate)
}
