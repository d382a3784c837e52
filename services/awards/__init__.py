"""Month-end awards: period close (freeze), award runs, reports and approval.

periods.py   a competition's award periods and cutoffs (pure)
table.py     the award table of one period: ranks, eligibility, prizes, ties (pure)
freezing.py  what a frozen period took from the SQL ledger (GROUP BY in SQL), adjustments
runs.py      idempotent, reproducible runs with fingerprint and checksum; approval (audited)
reports.py   CSV and XLSX, byte-identical for identical runs
"""
