-- A lead's scoring state is now stored in a binary form (store/score_state.go),
-- which is read and rewritten with every event of the lead: under half the
-- CPU of the JSON it replaces, in a third of the bytes. SQLite keeps a
-- blob in the TEXT column as it is, so nothing changes here but the schema
-- version; the JSON states already stored stay readable (they begin with
-- '{') and are rewritten in the binary form when they next change.
SELECT 1;
