package model

import (
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	rows, labels, err := ReadCSV(strings.NewReader("\ufeffid,Converted,Lead Source\r\n1,1,Google\r\n2,0,\r\n3,yes,google\r\n4,False,x\r\n"), "Converted")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || len(labels) != 4 {
		t.Fatalf("got %d rows, %d labels; want 4", len(rows), len(labels))
	}
	wantLabels := []bool{true, false, true, false}
	for i := range wantLabels {
		if labels[i] != wantLabels[i] {
			t.Errorf("label %d = %v, want %v", i, labels[i], wantLabels[i])
		}
	}
	if _, ok := rows[0]["Converted"]; ok {
		t.Errorf("target column left in rows")
	}
	if rows[0]["id"] != "1" || rows[0]["Lead Source"] != "Google" {
		t.Errorf("row 0 = %v (BOM or CRLF not handled?)", rows[0])
	}
	if v, ok := rows[1]["Lead Source"]; !ok || v != "" {
		t.Errorf("row 1 Lead Source = %q, %v", v, ok)
	}
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"empty input"}},
		{"no target", "a,b\n1,2\n", []string{`target column "Converted" not found`}},
		{"bad target", "a,Converted\n1,0\n2,maybe\n", []string{"row 2", `column "Converted"`, `"maybe"`}},
		{"empty target", "a,Converted\n1,\n", []string{"row 1", `column "Converted"`}},
		{"ragged", "a,Converted\n1,0\n1,0,3\n", []string{"row 2", "wrong number of fields"}},
		{"duplicate header", "a,a,Converted\n1,2,0\n", []string{`"a" appears twice`}},
		{"empty header name", "a,,Converted\n1,2,0\n", []string{"empty name"}},
		{"bad quote", "a,Converted\n\"x,0\n", []string{"row 1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ReadCSV(strings.NewReader(c.in), "Converted")
			if err == nil {
				t.Fatalf("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// FuzzReadCSV checks that ReadCSV, and training on whatever it accepts,
// never panic. The seed corpus runs as part of go test.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"",
		"Converted\n1\n0\n",
		"\ufeffa,Converted\r\n1,1\r\n2,0\r\n",
		"a,b,Converted\nx,1.5,1\ny,,0\nSelect,3,yes\nX,NaN,no\n",
		"a,Converted\n\"q\"\"uoted\",1\n\"multi\nline\",0\n",
		"a,Converted\n1,2\n",
		"a,Converted\n1\n",
		"a,a,Converted\n",
		",\n,\n",
		"Converted,b\n1,Inf\n0,-Inf\n1,1e308\n0,-1e308\n",
		"Converted,b\ntrue,\xff\xfe\nfalse,é\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rows, labels, err := ReadCSV(strings.NewReader(s), "Converted")
		if err != nil {
			return
		}
		if len(rows) != len(labels) {
			t.Fatalf("%d rows but %d labels", len(rows), len(labels))
		}
		if len(rows) > 200 {
			return
		}
		cfg := Config{Rounds: 3, MinLeaf: 1}
		m, err := Train(rows, labels, cfg)
		if err != nil {
			return
		}
		for _, r := range rows {
			p := m.Predict(r)
			if !(p >= 0 && p <= 1) {
				t.Fatalf("probability %v", p)
			}
			m.Explain(r)
		}
		if _, err := TrainNaiveBayes(rows, labels, cfg); err != nil {
			t.Fatalf("naive Bayes failed where Train succeeded: %v", err)
		}
	})
}
