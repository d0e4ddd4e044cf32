package baton_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestCheckAssignee(t *testing.T) {
	mgr, other := int64(1), int64(2)
	manager := baton.Actor{UserID: mgr, Role: baton.RoleManager}
	admin := baton.Actor{UserID: 9, Role: baton.RoleAdmin}
	user := func(id int64, role baton.Role, boss *int64, active bool) *baton.User {
		return &baton.User{ID: id, Name: fmt.Sprint("user ", id), Role: role, ManagerID: boss, Active: active}
	}
	owner := int64(10)
	lead := func(s baton.Stage) *baton.Lead { return &baton.Lead{ID: 100, Stage: s, OwnerID: &owner} }
	tests := []struct {
		name  string
		a     baton.Actor
		stage baton.Stage
		u     *baton.User
		code  string // "" allowed
	}{
		{"sdr of the team takes an mql", manager, baton.StageMQL, user(11, baton.RoleSDR, &mgr, true), ""},
		{"sdr of the team takes a sal", manager, baton.StageSAL, user(11, baton.RoleSDR, &mgr, true), ""},
		{"ae of the team takes an sql", manager, baton.StageSQL, user(12, baton.RoleAE, &mgr, true), ""},
		{"ae of the team takes an opportunity", manager, baton.StageOpportunity, user(12, baton.RoleAE, &mgr, true), ""},
		{"no ae for an mql", manager, baton.StageMQL, user(12, baton.RoleAE, &mgr, true), baton.EINVALID},
		{"no sdr for an sql", manager, baton.StageSQL, user(11, baton.RoleSDR, &mgr, true), baton.EINVALID},
		{"no manager", manager, baton.StageMQL, user(13, baton.RoleManager, nil, true), baton.EINVALID},
		{"not another team's sdr", manager, baton.StageMQL, user(14, baton.RoleSDR, &other, true), baton.EINVALID},
		{"not an sdr with no manager", manager, baton.StageMQL, user(15, baton.RoleSDR, nil, true), baton.EINVALID},
		{"admin gives to any team", admin, baton.StageMQL, user(14, baton.RoleSDR, &other, true), ""},
		{"system gives to any team", baton.SystemActor, baton.StageSQL, user(16, baton.RoleAE, &other, true), ""},
		{"not inactive", admin, baton.StageMQL, user(17, baton.RoleSDR, &mgr, false), baton.EINVALID},
		{"not the owner", manager, baton.StageMQL, user(owner, baton.RoleSDR, &mgr, true), baton.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := baton.CheckAssignee(tt.a, lead(tt.stage), tt.u, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			if got := baton.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q, want %q (%v)", got, tt.code, err)
			}
			if err != nil && tt.code == baton.EINVALID && baton.ErrorField(err) != "user_id" {
				t.Fatalf("field %q, want user_id", baton.ErrorField(err))
			}
		})
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{baton.Errorf(baton.EINVALID, "x"), http.StatusBadRequest},
		{baton.Errorf(baton.EUNAUTHORIZED, "x"), http.StatusUnauthorized},
		{baton.Errorf(baton.EFORBIDDEN, "x"), http.StatusForbidden},
		{baton.Errorf(baton.ENOTFOUND, "x"), http.StatusNotFound},
		{baton.Errorf(baton.ECONFLICT, "x"), http.StatusConflict},
		{baton.Errorf(baton.EUNPROCESSABLE, "x"), http.StatusUnprocessableEntity},
		{baton.Errorf(baton.EUNAVAILABLE, "x"), http.StatusServiceUnavailable},
		{baton.Errorf(baton.EINTERNAL, "x"), http.StatusInternalServerError},
		{fmt.Errorf("find lead 3: %w", baton.Errorf(baton.ENOTFOUND, "x")), http.StatusNotFound},
		{errors.New("disk on fire"), http.StatusInternalServerError},
		{&baton.Error{Code: "no_such_code"}, http.StatusInternalServerError},
	}
	for _, tt := range tests {
		if got := baton.HTTPStatus(tt.err); got != tt.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
