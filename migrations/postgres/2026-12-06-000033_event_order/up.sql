-- The place of each event in the order its dossier's events were pushed, so that events of one
-- instant are read back in that order: the rules judge a history in instant order and, for one
-- instant, in the order pushed (newly registered then received, both at the receipt instant),
-- and every later write (an event, a progress step, a rating) judges the stored history again.
-- Events stored before keep 0, and their ties the order of their ids, as before.
ALTER TABLE dossier_events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
