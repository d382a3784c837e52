"""`make faults`: fault scenarios against the real broker and database (`python -m tests.faults`).

Each scenario runs real processes (scoring worker, ledger sink, API) on its own topic prefix and
database, injects one kind of fault, and ends by comparing the published standings and the SQL
ledger with the scoring core's batch result over the events the doors accepted
(`tests/faults/harness.py`, `Scenario.verify`). One module per scenario; `__main__` runs them.
"""
