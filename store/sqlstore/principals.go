package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ronganxian/eseal/seal"
	"github.com/ronganxian/eseal/store"
)

const principalColumns = `id, name, role, township_code, windows, domains, disabled`

// The statements of a token rotation (see RotateToken).
var (
	// qLockPrincipal finds the enabled principal and holds its row until
	// the transaction ends, so that rotations of one principal take turns
	// (PostgreSQL; SQLite has one writer anyway).
	qLockPrincipal = `UPDATE principals SET disabled = 0 WHERE id = ? AND disabled = 0`
	// qNewestToken finds the token that expires last: a rotation's new
	// token, since every other is cut to the overlap. It goes by expiry,
	// not by creation, because replicas' clocks may disagree a little.
	qNewestToken = `SELECT hash FROM credentials WHERE principal_id = ? AND kind = 'token' AND expires_us IS NOT NULL
				ORDER BY expires_us DESC, created_us DESC, hash DESC LIMIT 1`
	qCutTokens = `UPDATE credentials SET expires_us = ?
				WHERE principal_id = ? AND kind = 'token' AND (expires_us IS NULL OR expires_us > ?)`
)

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
func (s *Store) CreatePrincipal(ctx context.Context, p seal.Principal, c store.Credential) error {
	if err := checkCredential(c); err != nil {
		return fmt.Errorf("principal %s: %w", p.ID, err)
	}
	now := time.Now().UnixMicro()
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, qInsertPrincipal,
			p.ID, p.Name, string(p.Role), p.Township, encodeList(p.Windows), encodeList(p.Domains), now)
		if err != nil {
			return err
		}
		return s.insertCredential(ctx, tx, p.ID, c, now)
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
func (s *Store) AddCredential(ctx context.Context, id string, c store.Credential) error {
	if err := checkCredential(c); err != nil {
		return fmt.Errorf("credential of %s: %w", id, err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := s.txQueryRow(ctx, tx, qPrincipalExists, id).Scan(&one); err != nil {
			return err
		}
		return s.insertCredential(ctx, tx, id, c, time.Now().UnixMicro())
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

// checkCredential refuses a credential the store must not keep: a hash of
// the wrong size, or a token that would never expire.
func checkCredential(c store.Credential) error {
	if len(c.Hash) != 32 {
		return fmt.Errorf("credential hash is %d bytes, want 32", len(c.Hash))
	}
	if c.Kind == store.CredentialToken && c.Expires.IsZero() {
		return errors.New("a token credential needs an expiry")
	}
	return nil
}

func (s *Store) insertCredential(ctx context.Context, tx *sql.Tx, id string, c store.Credential, now int64) error {
	var expires sql.NullInt64
	if !c.Expires.IsZero() {
		expires = sql.NullInt64{Int64: c.Expires.UnixMicro(), Valid: true}
	}
	_, err := s.txExec(ctx, tx, qInsertCredential,
		c.Kind, c.Hash, c.Hash[:lookupLen], id, now, expires)
	return err
}

// PrincipalByCredential implements store.Principals. The query matches a
// prefix of the hash; the whole hash is compared in constant time, so the
// database's comparison never decides on the secret part alone. Expiry is
// judged after the comparison, so that an expired token takes the path of
// an unknown one. A token without an expiry (none is ever stored) is not
// valid.
func (s *Store) PrincipalByCredential(ctx context.Context, kind string, hash []byte, at time.Time) (seal.Principal, error) {
	if len(hash) != 32 {
		return seal.Principal{}, fmt.Errorf("credential: %w", store.ErrNotFound)
	}
	rows, err := s.query(ctx, `SELECT c.hash, c.expires_us, p.id, p.name, p.role, p.township_code, p.windows,
		p.domains, p.disabled FROM credentials c JOIN principals p ON p.id = c.principal_id
		WHERE c.kind = ? AND c.lookup = ? AND p.disabled = 0`, kind, hash[:lookupLen])
	if err != nil {
		return seal.Principal{}, fmt.Errorf("credential: %w", err)
	}
	defer rows.Close()
	var found *store.PrincipalInfo
	for rows.Next() {
		var stored []byte
		var expires sql.NullInt64
		var p store.PrincipalInfo
		var windows, domains string
		var disabled int
		if err := rows.Scan(&stored, &expires, &p.ID, &p.Name, &p.Role, &p.Township, &windows, &domains, &disabled); err != nil {
			return seal.Principal{}, fmt.Errorf("credential: %w", err)
		}
		match := subtle.ConstantTimeCompare(stored, hash) == 1
		// A certificate has no expiry here (its own validity applies); a
		// token always has one.
		valid := !expires.Valid && kind == store.CredentialCert || expires.Valid && at.UnixMicro() < expires.Int64
		if match && valid {
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

// RotateToken implements store.Principals.
func (s *Store) RotateToken(ctx context.Context, r store.TokenRotation) (store.PrincipalInfo, error) {
	var p store.PrincipalInfo
	next := store.Credential{Kind: store.CredentialToken, Hash: r.Hash, Expires: r.Expires}
	if err := checkCredential(next); err != nil {
		return p, fmt.Errorf("token of %s: %w", r.ID, err)
	}
	now := time.Now().UnixMicro()
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, qLockPrincipal, r.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("no enabled principal: %w", store.ErrNotFound)
		}
		if r.By != nil {
			var newest []byte
			if err := s.txQueryRow(ctx, tx, qNewestToken, r.ID).Scan(&newest); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if subtle.ConstantTimeCompare(newest, r.By) != 1 {
				return store.ErrReplaced
			}
		}
		end := r.OverlapEnd.UnixMicro()
		if _, err := s.txExec(ctx, tx, qCutTokens, end, r.ID, end); err != nil {
			return err
		}
		if err := s.insertCredential(ctx, tx, r.ID, next, now); err != nil {
			return err
		}
		p, err = scanPrincipal(s.txQueryRow(ctx, tx, qPrincipalByID, r.ID))
		return err
	})
	if s.b.IsUniqueViolation(err) {
		return p, fmt.Errorf("token of %s: %w", r.ID, store.ErrExists)
	}
	if err != nil {
		return p, fmt.Errorf("rotating the token of %s: %w", r.ID, err)
	}
	return p, nil
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
