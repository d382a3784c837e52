"""`python -m services.demo`: demo competitions, a small org and a live trickle of events.

Everything goes through the ordinary doors (the competitions topic via the publisher, events to
the raw topic keyed by customer manager), so the demo exercises the same validation, dead-letter
and scoring path as real data.
"""
