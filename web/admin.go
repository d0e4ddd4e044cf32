package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// adminRoutes are the routes of the users and tokens pages added beside
// those of routes: adding and deactivating users, and the tokens every user
// lists and revokes for themselves (storage decides whose they may).
func (s *Server) adminRoutes(mux *http.ServeMux) {
	admins := []baton.Role{baton.RoleAdmin}
	mux.Handle("POST /admin/users", s.page(s.createUser, admins...))
	mux.Handle("POST /admin/users/{id}/active", s.page(s.setActive, admins...))
	mux.Handle("GET /admin/audit", s.page(s.adminAudit, admins...))
	mux.Handle("GET /tokens", s.page(s.myTokens))
	mux.Handle("POST /tokens", s.page(s.createMyToken))
	mux.Handle("POST /tokens/{id}/revoke", s.page(s.revokeToken))
}

type usersPage struct {
	Users    []*baton.User
	ByID     map[int64]*baton.User
	Pager    pager
	Roles    []baton.Role
	Managers []*baton.User
	// Me is the admin viewing the page, who cannot deactivate themselves.
	Me int64
}

const usersPer = 100

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderUsers(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	ctx := r.Context()
	page := pageNum(r)
	if p, err := strconv.Atoi(r.PostForm.Get("page")); err == nil && p > 0 { // a refused form shows its page again
		page = p
	}
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
		Roles: baton.Roles, Managers: managers, Me: c.User.ID}, fe)
	return nil
}

// usersBack is the users page a form came from, for the redirect after it.
func usersBack(r *http.Request) string {
	to := "/admin/users"
	if p, err := strconv.Atoi(r.PostForm.Get("page")); err == nil && p > 1 {
		to += "?page=" + strconv.Itoa(p)
	}
	return to
}

// createUser adds a user (admins). They sign in once an admin has set
// their password, which the page then offers.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c *session) error {
	ctx := r.Context()
	f := r.PostForm
	team := strings.TrimSpace(f.Get("team"))
	u := &baton.User{Email: f.Get("email"), Name: f.Get("name"), Role: baton.Role(f.Get("role")), Team: team, Territory: team}
	err := managerOf(f.Get("manager_id"), func(id *int64) { u.ManagerID = id })
	if err == nil {
		err = s.svc.Users.CreateUser(ctx, u)
	}
	if err != nil {
		if code := baton.ErrorCode(err); code != baton.EINVALID && code != baton.ECONFLICT {
			return err
		}
		return s.renderUsers(w, r, c, statusFor(err), newFormErr("newuser", 0, err, f))
	}
	// The new user is on the last page, being the newest.
	_, total, err := s.svc.Users.FindUsers(ctx, baton.UserFilter{Limit: 1})
	if err != nil {
		return err
	}
	page := max(1, (total+usersPer-1)/usersPer)
	http.Redirect(w, r, fmt.Sprintf("/admin/users?page=%d&msg=useradded#user-%d", page, u.ID), http.StatusSeeOther)
	return nil
}

// managerOf reads a manager field: "" or "0" is none.
func managerOf(s string, set func(*int64)) error {
	if s == "" || s == "0" {
		return nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return baton.FieldError("manager_id", "choose a manager")
	}
	set(&id)
	return nil
}

// setActive deactivates or reactivates a user (admins). A deactivated user
// cannot sign in, their sessions end and their API tokens are refused;
// routing gives them no more leads.
func (s *Server) setActive(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	active := r.PostForm.Get("active") == "true"
	if _, err := s.svc.Users.UpdateUser(r.Context(), id, baton.UserUpdate{Active: &active}); err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderUsers(w, r, c, statusFor(err), newFormErr("active", id, err, r.PostForm))
	}
	msg := "deactivated"
	if active {
		msg = "reactivated"
	}
	redirect(w, r, usersBack(r), msg)
	return nil
}

// setPassword sets a user's password (admins).
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	set := s.auth.SetPassword
	if r.PostForm.Get("keep_tokens") != "" {
		set = s.auth.SetPasswordKeepTokens
	}
	if err := set(r.Context(), id, r.PostForm.Get("password")); err != nil {
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
	redirect(w, r, usersBack(r), "password")
	return nil
}

// updateUser changes a user's role, team and manager (admins).
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	role := baton.Role(r.PostForm.Get("role"))
	team := strings.TrimSpace(r.PostForm.Get("team"))
	upd := baton.UserUpdate{Role: &role, Team: &team, Territory: &team}
	if m := r.PostForm.Get("manager_id"); m != "" {
		mid, perr := strconv.ParseInt(m, 10, 64)
		if perr != nil {
			return baton.FieldError("manager_id", "choose a manager")
		}
		upd.ManagerID = &mid
	}
	if _, err := s.svc.Users.UpdateUser(r.Context(), id, upd); err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderUsers(w, r, c, statusFor(err), newFormErr("user", id, err, r.PostForm))
	}
	redirect(w, r, usersBack(r), "user")
	return nil
}

// tokenRow is a token of the list with the people it names.
type tokenRow struct {
	*baton.Token
	Owner, By, RevokedBy *baton.User
}

type tokensPage struct {
	// Admin is set on the admin's page of every token; the page of one's
	// own tokens has it unset.
	Admin bool
	// Users are whom the admin may make a token for.
	Users  []*baton.User
	Tokens []tokenRow
	Pager  pager
	// Created is a token just made, shown this once, for For, named Name.
	Created string
	For     *baton.User
	Name    string
}

const tokensPer = 100

func (s *Server) adminTokens(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderTokens(w, r, c, http.StatusOK, tokensPage{Admin: true})
}

func (s *Server) myTokens(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderTokens(w, r, c, http.StatusOK, tokensPage{})
}

// renderTokens shows the tokens page: every token on the admin's, the
// viewer's own on theirs (storage keeps to those for anyone else).
func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, c *session, status int, d tokensPage, fe ...*formErr) error {
	ctx := r.Context()
	page := pageNum(r)
	f := baton.TokenFilter{Offset: (page - 1) * tokensPer, Limit: tokensPer}
	if !d.Admin {
		f.UserID = &c.User.ID
	}
	tokens, total, err := s.svc.Users.FindTokens(ctx, f)
	if err != nil {
		return err
	}
	// Who made a token may be an admin: the names are everyone's.
	users, _, err := s.svc.Users.FindUsers(ctx, baton.UserFilter{Limit: 1000})
	if err != nil {
		return err
	}
	byID := make(map[int64]*baton.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
		if d.Admin && u.Active {
			d.Users = append(d.Users, u)
		}
	}
	for _, t := range tokens {
		d.Tokens = append(d.Tokens, tokenRow{Token: t, Owner: byID[t.UserID], By: userOf(byID, t.CreatedBy), RevokedBy: userOf(byID, t.RevokedBy)})
	}
	d.Pager = newPager(r, page, tokensPer, total)
	title := "Your API tokens"
	if d.Admin {
		title = "API tokens"
	}
	s.render(w, r, c, status, "tokens", title, d, fe...)
	return nil
}

// userOf returns the user of an optional id (nil for none, or one not in
// the map: who made a token may be a user the viewer does not see).
func userOf(byID map[int64]*baton.User, id *int64) *baton.User {
	if id == nil {
		return nil
	}
	return byID[*id]
}

// tokenName checks the name of a token to make: a user names what uses it.
func tokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > baton.MaxTokenName {
		return name, baton.FieldError("name", "name the token (1-%d characters), e.g. what uses it", baton.MaxTokenName)
	}
	return name, nil
}

// createToken makes an API token for any user (admins) and shows it once,
// in the answer to the POST itself: it is never stored in clear, so it
// cannot be shown again.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *session) error {
	ctx := r.Context()
	d := tokensPage{Admin: true}
	uid, _ := strconv.ParseInt(r.PostForm.Get("user_id"), 10, 64)
	u, err := s.svc.Users.FindUserByID(ctx, uid)
	if err != nil {
		return s.renderTokens(w, r, c, http.StatusBadRequest, d,
			newFormErr("token", 0, baton.FieldError("user_id", "choose a user"), r.PostForm))
	}
	return s.makeToken(w, r, c, d, u)
}

// createMyToken makes an API token for the viewer, shown once.
func (s *Server) createMyToken(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.makeToken(w, r, c, tokensPage{}, c.User)
}

func (s *Server) makeToken(w http.ResponseWriter, r *http.Request, c *session, d tokensPage, u *baton.User) error {
	name, err := tokenName(r.PostForm.Get("name"))
	if err == nil {
		d.Created, err = s.svc.Users.CreateToken(r.Context(), u.ID, name)
	}
	if err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderTokens(w, r, c, statusFor(err), d, newFormErr("token", 0, err, r.PostForm))
	}
	d.For, d.Name = u, name
	return s.renderTokens(w, r, c, http.StatusOK, d)
}

// revokeToken revokes a token at once: the viewer's own, or anyone's for an
// admin. It goes back to the page it came from.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.svc.Users.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	back := "/tokens"
	if r.PostForm.Get("back") == "admin" && c.User.Role == baton.RoleAdmin {
		back = "/admin/tokens"
	}
	redirect(w, r, back, "revoked")
	return nil
}
