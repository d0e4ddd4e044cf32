package store

import (
	"context"
	"fmt"

	"github.com/batonhq/baton"
)

// Saved views: each user's named lead lists. A view belongs to the user who
// saved it; no one else reads, replaces or deletes it, an admin included
// (it is a preference, not data of the company).

// SavedViews is the SavedViewService of the database.
func (db *DB) SavedViews() baton.SavedViewService { return db }

// viewOwner is the user whose views the actor works on, or EFORBIDDEN for
// the system, which has none.
func (tx *Tx) viewOwner() (int64, error) {
	if tx.actor.UserID == 0 {
		return 0, baton.Errorf(baton.EFORBIDDEN, "saved views belong to a user: sign in")
	}
	return tx.actor.UserID, nil
}

// SaveView stores the view as the actor's, replacing their view of the
// same name.
func (db *DB) SaveView(ctx context.Context, v *baton.SavedView) error {
	if err := v.Validate(); err != nil {
		return err
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	uid, err := tx.viewOwner()
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM saved_views WHERE user_id = $1 AND name <> $2`, uid, v.Name).Scan(&n); err != nil {
		return fmt.Errorf("save view: %w", err)
	}
	if n >= baton.MaxViews {
		return baton.FieldError("name", "you have %d saved views, the most there may be: delete one first", n)
	}
	var created int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO saved_views (user_id, name, query, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query, updated_at = excluded.updated_at
		RETURNING id, created_at`, uid, v.Name, v.Query, micros(tx.now)).Scan(&v.ID, &created); err != nil {
		return fmt.Errorf("save view: %w", err)
	}
	v.UserID, v.CreatedAt, v.UpdatedAt = uid, fromMicros(created), tx.now
	return tx.Commit()
}

// FindViews lists the actor's views by name.
func (db *DB) FindViews(ctx context.Context) ([]*baton.SavedView, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	uid, err := tx.viewOwner()
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, user_id, name, query, created_at, updated_at FROM saved_views
		WHERE user_id = $1 ORDER BY name, id`, uid)
	if err != nil {
		return nil, fmt.Errorf("find views: %w", err)
	}
	defer rows.Close()
	out := []*baton.SavedView{}
	for rows.Next() {
		var v baton.SavedView
		var created, updated int64
		if err := rows.Scan(&v.ID, &v.UserID, &v.Name, &v.Query, &created, &updated); err != nil {
			return nil, fmt.Errorf("find views: %w", err)
		}
		v.CreatedAt, v.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, &v)
	}
	return out, rows.Err()
}

// DeleteView deletes one of the actor's views; another's is not found.
func (db *DB) DeleteView(ctx context.Context, id int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	uid, err := tx.viewOwner()
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM saved_views WHERE id = $1 AND user_id = $2`, id, uid)
	if err != nil {
		return fmt.Errorf("delete view %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return baton.Errorf(baton.ENOTFOUND, "no saved view %d", id)
	}
	return tx.Commit()
}
