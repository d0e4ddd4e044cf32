package model

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ReadCSV reads leads with a header row from r. The target column must hold
// 0/1 (or true/false, yes/no, any case); it is removed from the returned
// rows and returned as labels. A UTF-8 byte-order mark and CRLF line endings
// are accepted. Errors name the row (1 = first data row) and column.
func ReadCSV(r io.Reader, target string) (rows []Row, labels []bool, err error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("model: read CSV: empty input (no header row)")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("model: read CSV: header: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	ti := -1
	seen := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		header[i] = h
		if h == "" {
			return nil, nil, fmt.Errorf("model: read CSV: header: column %d has an empty name", i+1)
		}
		if p, dup := seen[h]; dup {
			return nil, nil, fmt.Errorf("model: read CSV: header: column %q appears twice (columns %d and %d)", h, p+1, i+1)
		}
		seen[h] = i
		if h == target {
			ti = i
		}
	}
	if ti < 0 {
		return nil, nil, fmt.Errorf("model: read CSV: target column %q not found in header (%d columns)", target, len(header))
	}
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("model: read CSV: row %d: %w", n, err)
		}
		y, ok := parseLabel(rec[ti])
		if !ok {
			return nil, nil, fmt.Errorf("model: read CSV: row %d, column %q: invalid target value %q (want 0/1, true/false or yes/no)", n, target, rec[ti])
		}
		row := make(Row, len(header)-1)
		for i, v := range rec {
			if i != ti {
				row[header[i]] = v
			}
		}
		rows = append(rows, row)
		labels = append(labels, y)
	}
	return rows, labels, nil
}

func parseLabel(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return true, true
	case "0", "false", "no":
		return false, true
	}
	return false, false
}
