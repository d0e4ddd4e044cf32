-- The reminder and deadline jobs of a handoff are cancelled when it is
-- answered or closed (store/answer.go, cancelSLAJobs): found by subject,
-- among the jobs not done.
CREATE INDEX jobs_subject ON jobs(subject) WHERE done_at IS NULL;
