package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ronganxian/eseal/seal"
)

const itemColumns = `code, name, type, service_window, domain, supervisor, legal_basis, time_limit_days, documents, active`

func scanItem(row scanner) (seal.Item, error) {
	var it seal.Item
	var docs string
	var active int
	if err := row.Scan(&it.Code, &it.Name, &it.Type, &it.Window, &it.Domain, &it.Supervisor, &it.LegalBasis,
		&it.TimeLimitDays, &docs, &active); err != nil {
		return it, err
	}
	var err error
	it.Documents, err = decodeList[string](docs)
	it.Active = active == 1
	return it, err
}

// Township implements seal.Registry.
func (s *Store) Township(ctx context.Context, code string) (seal.Township, error) {
	var t seal.Township
	err := s.queryRow(ctx, `SELECT code, name, kind, seal_name FROM townships WHERE code = ?`, code).
		Scan(&t.Code, &t.Name, &t.Kind, &t.SealName)
	if err != nil {
		return t, notFound(err, "township "+code)
	}
	return t, nil
}

// Item implements seal.Registry.
func (s *Store) Item(ctx context.Context, code string) (seal.Item, error) {
	it, err := scanItem(s.queryRow(ctx, `SELECT `+itemColumns+` FROM items WHERE code = ?`, code))
	if err != nil {
		return it, notFound(err, "item "+code)
	}
	return it, nil
}

// Implements implements seal.Registry.
func (s *Store) Implements(ctx context.Context, township, item string) (bool, error) {
	var one int
	err := s.queryRow(ctx,
		`SELECT 1 FROM implementations WHERE township_code = ? AND item_code = ?`, township, item).Scan(&one)
	switch {
	case err == sql.ErrNoRows:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("implementation %s/%s: %w", township, item, err)
	}
	return true, nil
}

// ImportCatalog implements store.Registry.
func (s *Store) ImportCatalog(ctx context.Context, c *seal.Catalog) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, t := range c.Townships {
			_, err := s.txExec(ctx, tx, qUpsertTownship,
				t.Code, t.Name, t.Kind, t.SealName)
			if err != nil {
				return fmt.Errorf("township %s: %w", t.Code, err)
			}
		}
		for _, it := range c.Items {
			active := 0
			if it.Active {
				active = 1
			}
			_, err := s.txExec(ctx, tx, qUpsertItem,
				it.Code, it.Name, it.Type, string(it.Window), it.Domain, it.Supervisor, it.LegalBasis, it.TimeLimitDays,
				encodeList(it.Documents), active)
			if err != nil {
				return fmt.Errorf("item %s: %w", it.Code, err)
			}
		}
		replaced := map[string]bool{}
		for _, p := range c.Implementations {
			if !replaced[p.Township] {
				if _, err := s.txExec(ctx, tx, qDeleteImplementations, p.Township); err != nil {
					return fmt.Errorf("implementation list of %s: %w", p.Township, err)
				}
				replaced[p.Township] = true
			}
			_, err := s.txExec(ctx, tx, qInsertImplementation, p.Township, p.Item)
			if err != nil {
				return fmt.Errorf("implementation %s/%s: %w", p.Township, p.Item, err)
			}
		}
		return nil
	})
}

// Townships implements store.Registry.
func (s *Store) Townships(ctx context.Context) ([]seal.Township, error) {
	rows, err := s.query(ctx, `SELECT code, name, kind, seal_name FROM townships ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("townships: %w", err)
	}
	defer rows.Close()
	var out []seal.Township
	for rows.Next() {
		var t seal.Township
		if err := rows.Scan(&t.Code, &t.Name, &t.Kind, &t.SealName); err != nil {
			return nil, fmt.Errorf("townships: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) queryItems(ctx context.Context, query string, args ...any) ([]seal.Item, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	out, err := scanRows(rows, scanItem)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	return out, nil
}

// Items implements store.Registry.
func (s *Store) Items(ctx context.Context, window seal.Window, domain string) ([]seal.Item, error) {
	return s.queryItems(ctx, `SELECT `+itemColumns+` FROM items
		WHERE (? = '' OR service_window = ?) AND (? = '' OR domain = ?) ORDER BY code`,
		string(window), string(window), domain, domain)
}

// SetItemActive implements store.Registry.
func (s *Store) SetItemActive(ctx context.Context, code string, active bool) (seal.Item, error) {
	v := 0
	if active {
		v = 1
	}
	var it seal.Item
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, qSetItemActive, v, code)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		it, err = scanItem(s.txQueryRow(ctx, tx, qItemByCode, code))
		return err
	})
	if err != nil {
		return it, notFound(err, "item "+code)
	}
	return it, nil
}

// ImplementationList implements store.Registry.
func (s *Store) ImplementationList(ctx context.Context, township string) ([]seal.Item, error) {
	return s.queryItems(ctx, `SELECT i.code, i.name, i.type, i.service_window, i.domain, i.supervisor, i.legal_basis,
		i.time_limit_days, i.documents, i.active
		FROM implementations m JOIN items i ON i.code = m.item_code WHERE m.township_code = ? ORDER BY i.code`, township)
}
