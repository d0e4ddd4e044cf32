package baton_test

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestOutOfOfficeReturn(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		until string
		loc   *time.Location
		want  time.Time
		field string // of the error, "" for none
	}{
		{"2026-03-09", nil, time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), ""},
		// A day starts in the user's zone: midnight in New York is 05:00
		// UTC, 04:00 once daylight saving time has begun (8 March).
		{"2026-03-06", ny, time.Date(2026, 3, 6, 5, 0, 0, 0, time.UTC), ""},
		{"2026-03-09", ny, time.Date(2026, 3, 9, 4, 0, 0, 0, time.UTC), ""},
		{" 2026-03-02T17:30:00+01:00 ", ny, time.Date(2026, 3, 2, 16, 30, 0, 0, time.UTC), ""},
		{"2027-03-02T09:00:00Z", nil, now.Add(baton.MaxAbsence), ""},
		{"2027-03-02T09:00:01Z", nil, time.Time{}, "until"},
		{"2026-03-02T09:00:00Z", nil, time.Time{}, "until"}, // now is not ahead
		{"2026-03-02", nil, time.Time{}, "until"},           // today began in the past
		{"2026-03-01", nil, time.Time{}, "until"},
		{"", nil, time.Time{}, "until"},
		{"9 March", nil, time.Time{}, "until"},
	} {
		got, _, err := baton.OutOfOffice{Until: c.until}.Return(now, c.loc)
		if baton.ErrorField(err) != c.field || c.field == "" && (err != nil || !got.Equal(c.want)) {
			t.Errorf("until %q in %v: %v %v, want %v (field %q)", c.until, c.loc, got, err, c.want, c.field)
		}
	}
	_, note, err := baton.OutOfOffice{Until: "2026-03-09", Note: "  Ella covers  "}.Return(now, nil)
	if err != nil || note != "Ella covers" {
		t.Fatalf("note %q %v", note, err)
	}
	_, _, err = baton.OutOfOffice{Until: "2026-03-09", Note: strings.Repeat("é", 501)}.Return(now, nil)
	if baton.ErrorField(err) != "note" {
		t.Fatalf("a long note: %v", err)
	}
}

func TestCanSetAbsence(t *testing.T) {
	mgr := int64(10)
	rep := &baton.User{ID: 20, Role: baton.RoleSDR, ManagerID: &mgr}
	for _, c := range []struct {
		actor baton.Actor
		want  bool
	}{
		{baton.SystemActor, true},
		{baton.Actor{UserID: 1, Role: baton.RoleAdmin}, true},
		{baton.Actor{UserID: 20, Role: baton.RoleSDR}, true},
		{baton.Actor{UserID: 10, Role: baton.RoleManager}, true},
		{baton.Actor{UserID: 11, Role: baton.RoleManager}, false},
		{baton.Actor{UserID: 21, Role: baton.RoleSDR}, false},
		{baton.Actor{UserID: 10, Role: baton.RoleSDR}, false}, // a manager's id, not the role
		{baton.Actor{UserID: 2, Role: baton.RoleMarketing}, false},
		{baton.Actor{Role: baton.RoleSDR}, false},
	} {
		if got := c.actor.CanSetAbsence(rep); got != c.want {
			t.Errorf("%+v: %v, want %v", c.actor, got, c.want)
		}
	}
}
