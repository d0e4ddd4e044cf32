-- An event is stored once per (client id, lead), as before, but the unique
-- index now leads with the client id: batches of events to random leads
-- wrote a random page of each of two indexes by lead per event, and the
-- index by lead and time is enough to find a lead's events (see the SQLite
-- migration of the same number).
ALTER TABLE events DROP CONSTRAINT events_lead_id_client_id_key;
ALTER TABLE events ADD CONSTRAINT events_client_lead UNIQUE (client_id, lead_id);
