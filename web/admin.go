package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

type usersPage struct {
	Users    []*baton.User
	ByID     map[int64]*baton.User
	Pager    pager
	Roles    []baton.Role
	Managers []*baton.User
}

const usersPer = 100

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderUsers(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	ctx := r.Context()
	page := pageNum(r)
	users, total, err := s.svc.Users.FindUsers(ctx, baton.UserFilter{Offset: (page - 1) * usersPer, Limit: usersPer})
	if err != nil {
		return err
	}
	byID, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	mgr := baton.RoleManager
	managers, _, err := s.svc.Users.FindUsers(ctx, baton.UserFilter{Role: &mgr, Limit: 1000})
	if err != nil {
		return err
	}
	s.render(w, r, c, status, "users", "Users", usersPage{Users: users, ByID: byID, Pager: newPager(r, page, usersPer, total),
		Roles: baton.Roles, Managers: managers}, fe)
	return nil
}

// setPassword sets a user's password (admins).
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.auth.SetPassword(r.Context(), id, r.PostForm.Get("password")); err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		r.PostForm.Del("password") // never shown again
		return s.renderUsers(w, r, c, statusFor(err), newFormErr("password", id, err, r.PostForm))
	}
	if id == c.User.ID { // setting a password ends the user's sessions, this one too
		s.setCookie(w, r, sessionCookie, "", -1)
		redirect(w, r, "/signin", "password")
		return nil
	}
	redirect(w, r, "/admin/users", "password")
	return nil
}

type tokensPage struct {
	Users   []*baton.User
	Created string
	For     *baton.User
	Name    string
}

func (s *Server) adminTokens(w http.ResponseWriter, r *http.Request, c *session) error {
	users, _, err := s.svc.Users.FindUsers(r.Context(), baton.UserFilter{Limit: 1000})
	if err != nil {
		return err
	}
	s.render(w, r, c, http.StatusOK, "tokens", "API tokens", tokensPage{Users: users})
	return nil
}

// createToken makes an API token and shows it once, in the answer to the
// POST itself: it is never stored in clear, so it cannot be shown again.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *session) error {
	ctx := r.Context()
	users, _, err := s.svc.Users.FindUsers(ctx, baton.UserFilter{Limit: 1000})
	if err != nil {
		return err
	}
	d := tokensPage{Users: users, Name: strings.TrimSpace(r.PostForm.Get("name"))}
	uid, _ := strconv.ParseInt(r.PostForm.Get("user_id"), 10, 64)
	if d.For, err = s.svc.Users.FindUserByID(ctx, uid); err != nil {
		s.render(w, r, c, http.StatusBadRequest, "tokens", "API tokens", d,
			newFormErr("token", 0, baton.FieldError("user_id", "choose a user"), r.PostForm))
		return nil
	}
	if d.Name == "" || len(d.Name) > 100 {
		s.render(w, r, c, http.StatusBadRequest, "tokens", "API tokens", d,
			newFormErr("token", 0, baton.FieldError("name", "name the token (1-100 characters), e.g. what uses it"), r.PostForm))
		return nil
	}
	if d.Created, err = s.svc.Users.CreateToken(ctx, uid, d.Name); err != nil {
		return err
	}
	s.render(w, r, c, http.StatusOK, "tokens", "API tokens", d)
	return nil
}
