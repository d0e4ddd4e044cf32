-- Out of office: the note beside the return date (out_of_office_until, from
-- 0004), which the rep, their manager or an admin sets. And a rep's own
-- working calendar, which overrides their team's for the SLA windows of the
-- handoffs opened to them.
ALTER TABLE users ADD COLUMN out_of_office_note TEXT NOT NULL DEFAULT '';
CREATE TABLE user_calendars (
	user_id BIGINT PRIMARY KEY REFERENCES users(id),
	body    TEXT NOT NULL
);
