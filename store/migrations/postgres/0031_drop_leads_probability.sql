-- leads_probability (probability) serves no query: the list sorted by
-- probability reads leads_sort_probability (COALESCE(probability, -1),
-- id), and the queue sorted by probability sorts the rep's few open
-- handoffs after finding them by handoffs_owner. It was one of the twelve
-- indexes every new lead (and every rescore that changes a probability)
-- writes.
DROP INDEX leads_probability;
