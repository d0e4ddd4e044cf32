package store

import (
	"context"
	"fmt"
	"sort"

	"github.com/batonhq/baton"
)

// Custom attributes: their types are fixed by the first value seen (or
// defined up front), and every lead's values are checked against them.

// attrDefs loads the custom attribute types.
func (tx *Tx) attrDefs(ctx context.Context) (map[string]baton.AttrType, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, type FROM attribute_defs`)
	if err != nil {
		return nil, fmt.Errorf("attribute definitions: %w", err)
	}
	defer rows.Close()
	defs := map[string]baton.AttrType{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		defs[n] = baton.AttrType(t)
	}
	return defs, rows.Err()
}

// checkAttrs checks a lead's attributes against their types and stores the
// types of new ones.
func (tx *Tx) checkAttrs(ctx context.Context, defs map[string]baton.AttrType, a baton.Attrs) error {
	newDefs, err := baton.CheckAttrs(defs, a)
	if err != nil {
		return err
	}
	for _, d := range newDefs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO attribute_defs (name, type) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, d.Name, string(d.Type)); err != nil {
			return fmt.Errorf("define attribute %s: %w", d.Name, err)
		}
		defs[d.Name] = d.Type
	}
	return nil
}

// AttributeDefs returns the custom attributes and their types.
func (db *DB) AttributeDefs(ctx context.Context) ([]baton.AttributeDef, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]baton.AttributeDef, 0, len(defs))
	for n, t := range defs {
		out = append(out, baton.AttributeDef{Name: n, Type: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DefineAttributes declares custom attributes and their types before any
// lead has them, so that a policy may name them. Defining one again with the
// same type does nothing; with another type it is a conflict.
func (db *DB) DefineAttributes(ctx context.Context, defs []baton.AttributeDef) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() && tx.actor.Role != baton.RoleMarketing {
		return baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may define attributes")
	}
	known, err := tx.attrDefs(ctx)
	if err != nil {
		return err
	}
	a := baton.Attrs{}
	for _, d := range defs {
		switch d.Type {
		case baton.AttrString:
			a[d.Name] = ""
		case baton.AttrNumber:
			a[d.Name] = 0.0
		case baton.AttrBool:
			a[d.Name] = false
		default:
			return baton.FieldError("type", "attribute %q: unknown type %q (want string, number or bool)", d.Name, d.Type)
		}
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if err := tx.checkAttrs(ctx, known, a); err != nil {
		return &baton.Error{Code: baton.ECONFLICT, Field: baton.ErrorField(err), Message: baton.ErrorMessage(err)}
	}
	return tx.Commit()
}
