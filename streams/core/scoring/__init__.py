"""One scorer per rule kind. A scorer indexes the participant's events into buckets (a day, an
account, a scorecard) and computes a bucket's points from the events in it alone, so applying an
event recomputes only the buckets it touches."""
