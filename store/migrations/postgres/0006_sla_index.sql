-- SQLite's 0006 gives the SLA report an index in the order it groups in.
-- PostgreSQL groups with a hash and reads handoffs by assignment time
-- (handoffs_assigned), so nothing changes here; the file keeps the two
-- schemas at the same version.
SELECT 1;
