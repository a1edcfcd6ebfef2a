package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

const principalColumns = `id, name, role, township_code, windows, domains, disabled`

func scanPrincipal(row interface{ Scan(...any) error }) (store.PrincipalInfo, error) {
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
	err := s.b.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.sql(`INSERT INTO principals (`+principalColumns+`, created_us) VALUES (?, ?, ?, ?, ?, ?, 0, ?)`),
			p.ID, p.Name, string(p.Role), p.Township, encodeList(p.Windows), encodeList(p.Domains), now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sql(`INSERT INTO credentials (kind, hash, principal_id, created_us) VALUES (?, ?, ?, ?)`),
			kind, hash, p.ID, now)
		return err
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
	err := s.b.Write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.sql(`SELECT 1 FROM principals WHERE id = ?`), id).Scan(&one); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.sql(`INSERT INTO credentials (kind, hash, principal_id, created_us) VALUES (?, ?, ?, ?)`),
			kind, hash, id, time.Now().UnixMicro())
		return err
	})
	if s.b.IsUniqueViolation(err) {
		return fmt.Errorf("credential of %s: %w", id, store.ErrExists)
	}
	if err != nil {
		return notFound(err, "principal "+id)
	}
	return nil
}

// PrincipalByCredential implements store.Principals.
func (s *Store) PrincipalByCredential(ctx context.Context, kind string, hash []byte) (seal.Principal, error) {
	p, err := scanPrincipal(s.b.Reader().QueryRowContext(ctx, s.sql(`SELECT p.id, p.name, p.role, p.township_code, p.windows,
		p.domains, p.disabled FROM credentials c JOIN principals p ON p.id = c.principal_id
		WHERE c.kind = ? AND c.hash = ? AND p.disabled = 0`), kind, hash))
	if err != nil {
		return seal.Principal{}, notFound(err, "credential")
	}
	return p.Principal, nil
}

// ListPrincipals implements store.Principals.
func (s *Store) ListPrincipals(ctx context.Context) ([]store.PrincipalInfo, error) {
	rows, err := s.b.Reader().QueryContext(ctx, `SELECT `+principalColumns+` FROM principals ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("principals: %w", err)
	}
	defer rows.Close()
	var out []store.PrincipalInfo
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, fmt.Errorf("principals: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DisablePrincipal implements store.Principals.
func (s *Store) DisablePrincipal(ctx context.Context, id string) (store.PrincipalInfo, error) {
	var p store.PrincipalInfo
	err := s.b.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(`UPDATE principals SET disabled = 1 WHERE id = ?`), id); err != nil {
			return err
		}
		var err error
		p, err = scanPrincipal(tx.QueryRowContext(ctx, s.sql(`SELECT `+principalColumns+` FROM principals WHERE id = ?`), id))
		return err
	})
	if err != nil {
		return p, notFound(err, "principal "+id)
	}
	return p, nil
}
