package web

import (
	"net/url"
	"testing"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 6421: "6,421", 1234567: "1,234,567", -6421: "-6,421"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestListQuery: the canonical query string keeps only the list's own
// parameters, and a column's head turns its order around.
func TestListQuery(t *testing.T) {
	v, _ := url.ParseQuery("page=3&junk=x&stage=sql&sort=fit&q=+acme+")
	lq := parseListQuery(v)
	if got := lq.values().Encode(); got != "q=acme&sort=fit&stage=sql" {
		t.Fatalf("canonical %q", got)
	}
	if got := lq.link(3); got != "/leads?page=3&q=acme&sort=fit&stage=sql" {
		t.Fatalf("link %q", got)
	}
	if c := lq.column("Fit", "fit", true); c.Sorted != "descending" || c.Link != "/leads?dir=asc&q=acme&sort=fit&stage=sql" {
		t.Fatalf("fit head %+v", c)
	}
	if c := lq.column("Lead", "name", false); c.Sorted != "" || c.Link != "/leads?q=acme&sort=name&stage=sql" {
		t.Fatalf("name head %+v", c)
	}
	if c := (listQuery{}).column("Created", "created", false); c.Sorted != "descending" || c.Link != "/leads?dir=asc&sort=created" {
		t.Fatalf("created head %+v", c)
	}
	f, err := listQuery{Sort: "name", Dir: "desc", Page: 1}.filter(nil)
	if err != nil || !f.Reverse || f.Sort != "name" {
		t.Fatalf("name, Z to A: %+v %v", f, err)
	}
	if _, err := (listQuery{Owner: "x", Page: 1}).filter(nil); err == nil {
		t.Fatal("a bad owner passes")
	}
}
