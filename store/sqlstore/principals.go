package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

const principalColumns = `id, name, role, township_code, windows, domains, disabled`

func scanPrincipal(row scanner) (store.PrincipalInfo, error) {
	var p store.PrincipalInfo
	var windows, domains string
	var disabled int
	if err := row.Scan(&p.ID, &p.Name, &p.Role, &p.Township, &windows, &domains, &disabled); err != nil {
		return p, err
	}
	var err error
	if p.Windows, err = decodeList[seal.Window](windows); err != nil {
		return p, err
	}
	p.Domains, err = decodeList[string](domains)
	p.Disabled = disabled == 1
	return p, err
}

// CreatePrincipal implements store.Principals.
func (s *Store) CreatePrincipal(ctx context.Context, p seal.Principal, kind string, hash []byte) error {
	now := time.Now().UnixMicro()
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, qInsertPrincipal,
			p.ID, p.Name, string(p.Role), p.Township, encodeList(p.Windows), encodeList(p.Domains), now)
		if err != nil {
			return err
		}
		return s.insertCredential(ctx, tx, p.ID, kind, hash, now)
	})
	if s.b.IsUniqueViolation(err) {
		return fmt.Errorf("principal %s: %w", p.ID, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("principal %s: %w", p.ID, err)
	}
	return nil
}

// AddCredential implements store.Principals.
func (s *Store) AddCredential(ctx context.Context, id, kind string, hash []byte) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := s.txQueryRow(ctx, tx, qPrincipalExists, id).Scan(&one); err != nil {
			return err
		}
		return s.insertCredential(ctx, tx, id, kind, hash, time.Now().UnixMicro())
	})
	if s.b.IsUniqueViolation(err) {
		return fmt.Errorf("credential of %s: %w", id, store.ErrExists)
	}
	if err != nil {
		return notFound(err, "principal "+id)
	}
	return nil
}

// lookupLen is how much of a credential hash the database matches on; the
// rest is compared in constant time here.
const lookupLen = 8

func (s *Store) insertCredential(ctx context.Context, tx *sql.Tx, id, kind string, hash []byte, now int64) error {
	if len(hash) != 32 {
		return fmt.Errorf("credential hash is %d bytes, want 32", len(hash))
	}
	_, err := s.txExec(ctx, tx, qInsertCredential,
		kind, hash, hash[:lookupLen], id, now)
	return err
}

// PrincipalByCredential implements store.Principals. The query matches a
// prefix of the hash; the whole hash is compared in constant time, so the
// database's comparison never decides on the secret part alone.
func (s *Store) PrincipalByCredential(ctx context.Context, kind string, hash []byte) (seal.Principal, error) {
	if len(hash) != 32 {
		return seal.Principal{}, fmt.Errorf("credential: %w", store.ErrNotFound)
	}
	rows, err := s.query(ctx, `SELECT c.hash, p.id, p.name, p.role, p.township_code, p.windows,
		p.domains, p.disabled FROM credentials c JOIN principals p ON p.id = c.principal_id
		WHERE c.kind = ? AND c.lookup = ? AND p.disabled = 0`, kind, hash[:lookupLen])
	if err != nil {
		return seal.Principal{}, fmt.Errorf("credential: %w", err)
	}
	defer rows.Close()
	var found *store.PrincipalInfo
	for rows.Next() {
		var stored []byte
		var p store.PrincipalInfo
		var windows, domains string
		var disabled int
		if err := rows.Scan(&stored, &p.ID, &p.Name, &p.Role, &p.Township, &windows, &domains, &disabled); err != nil {
			return seal.Principal{}, fmt.Errorf("credential: %w", err)
		}
		if subtle.ConstantTimeCompare(stored, hash) == 1 {
			if p.Windows, err = decodeList[seal.Window](windows); err != nil {
				return seal.Principal{}, err
			}
			if p.Domains, err = decodeList[string](domains); err != nil {
				return seal.Principal{}, err
			}
			found = &p
		}
	}
	if err := rows.Err(); err != nil {
		return seal.Principal{}, fmt.Errorf("credential: %w", err)
	}
	if found == nil {
		return seal.Principal{}, fmt.Errorf("credential: %w", store.ErrNotFound)
	}
	return found.Principal, nil
}

// ListPrincipals implements store.Principals.
func (s *Store) ListPrincipals(ctx context.Context) ([]store.PrincipalInfo, error) {
	rows, err := s.query(ctx, `SELECT `+principalColumns+` FROM principals ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("principals: %w", err)
	}
	out, err := scanRows(rows, scanPrincipal)
	if err != nil {
		return nil, fmt.Errorf("principals: %w", err)
	}
	return out, nil
}

// DisablePrincipal implements store.Principals.
func (s *Store) DisablePrincipal(ctx context.Context, id string) (store.PrincipalInfo, error) {
	var p store.PrincipalInfo
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, qDisablePrincipal, id); err != nil {
			return err
		}
		var err error
		p, err = scanPrincipal(s.txQueryRow(ctx, tx, qPrincipalByID, id))
		return err
	})
	if err != nil {
		return p, notFound(err, "principal "+id)
	}
	return p, nil
}
