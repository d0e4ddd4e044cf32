package baton

import "time"

// AssigneeRole is the role of the users a lead in the stage is given to: an
// account executive works an SQL and an opportunity, a development rep the
// earlier stages.
func AssigneeRole(s Stage) Role {
	if s == StageSQL || s == StageOpportunity {
		return RoleAE
	}
	return RoleSDR
}

// CheckAssignee returns nil if the actor may give the lead to u at now by an
// assign or a reassign (what NeedAssignee asks), or the error that says why
// not: u must be active and not out of office, of the lead stage's
// AssigneeRole, report to the actor when the actor is a manager (an admin
// and the system give to anyone), and not own the lead already. Storage
// checks it, and pages use it to offer only the users storage would accept.
func CheckAssignee(a Actor, l *Lead, u *User, now time.Time) error {
	want := AssigneeRole(l.Stage)
	switch {
	case !u.Active:
		return FieldError("user_id", "%s is not active", u.Name)
	case u.Away(now):
		return FieldError("user_id", "%s is out of office until %s", u.Name, u.OutOfOfficeUntil.Format("2006-01-02 15:04 MST"))
	case u.Role != want:
		return FieldError("user_id", "%s is a %s: a lead that is %s goes to a %s", u.Name, u.Role, l.Stage, want)
	case a.Role == RoleManager && (u.ManagerID == nil || *u.ManagerID != a.UserID):
		return FieldError("user_id", "%s is not in your team", u.Name)
	case l.OwnerID != nil && *l.OwnerID == u.ID:
		return Errorf(ECONFLICT, "%s owns lead %d already", u.Name, l.ID)
	}
	return nil
}
