package store

import (
	"math"
	"testing"
)

// A literal insertRows writes for a column whose rows share a value reads
// back as the value bound would: of the same type and equal.
func TestSQLLiteralReadsBackAsBound(t *testing.T) {
	db := memoryDB(t)
	if _, err := db.Exec(`CREATE TABLE t (i INTEGER, r REAL, s TEXT NOT NULL DEFAULT '', a)`); err != nil {
		t.Fatal(err)
	}
	values := []any{nil, int64(0), int64(-7), int64(math.MaxInt64), int64(math.MinInt64), 0.0, 1.0, -2.5, 1e300, 5e-324,
		0.1, 123456789.0, "", "it's", "''", "é ünïcode", "a\nb", `\`, "%_", "123", "1.5", " 7", "1e3", "-0", "0x10",
		[]byte{}, []byte("x"), []byte{0, 1, 0x27, 0xff}}
	for _, v := range values {
		lit, ok := sqlLiteral(v)
		if !ok {
			t.Fatalf("%#v: no literal", v)
		}
		for _, col := range []string{"i", "r", "s", "a"} {
			if _, err := db.Exec(`DELETE FROM t`); err != nil {
				t.Fatal(err)
			}
			if v == nil && col == "s" {
				continue
			}
			if _, err := db.Exec(`INSERT INTO t (`+col+`) VALUES (?), (`+lit+`)`, v); err != nil {
				t.Fatalf("%#v as %s: %v", v, lit, err)
			}
			rows, err := db.Query(`SELECT typeof(` + col + `), quote(` + col + `) FROM t ORDER BY rowid`)
			if err != nil {
				t.Fatal(err)
			}
			var got [2]string
			for k := 0; rows.Next(); k++ {
				var typ, q string
				if err := rows.Scan(&typ, &q); err != nil {
					t.Fatal(err)
				}
				got[k] = typ + " " + q
			}
			rows.Close()
			if got[0] != got[1] {
				t.Errorf("%#v in %s: bound reads %s, literal %s reads %s", v, col, got[0], lit, got[1])
			}
		}
	}
	for _, v := range []any{math.Inf(1), math.NaN(), math.Copysign(0, -1), "a\x00b", "\xff", true} {
		if lit, ok := sqlLiteral(v); ok {
			t.Errorf("%#v: literal %s, want none", v, lit)
		}
	}
}

func TestConstantColumns(t *testing.T) {
	rows := [][]any{
		{int64(1), "a", nil, 1.0, "x"},
		{int64(2), "a", nil, 1.0, "x"},
		{int64(3), "a", nil, -1.0, nil},
	}
	got := constantColumns([]string{"id", "s", "n", "f", "m"}, rows)
	want := []string{"", "'a'", "NULL", "", ""}
	for c := range want {
		if got[c] != want[c] {
			t.Errorf("column %d: %q, want %q", c, got[c], want[c])
		}
	}
}
