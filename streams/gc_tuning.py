"""The garbage collector of a long-lived process that allocates per event: the worker, and the
sink and the API, which allocate per ledger entry.

Profiled on the peer job (issue 17), about a fifth of the worker's CPU went to the cyclic
collector: every few events a young collection, and regularly a full one over everything the
process had built at start-up (faust, pydantic's schemas, aiokafka). What the loops allocate per
event dies by reference counting, not by the collector; the collector only finds the rare cycle.
So: start-up's objects are frozen out of the collector's walks, and a young collection waits
for more allocations.
"""

from __future__ import annotations

import gc

# Python's default is (700, 10, 10). A young collection costs what is alive in it, so waiting
# longer lets more of each batch's temporaries die first; the older generations follow suit.
THRESHOLDS = (50_000, 20, 20)


def tune() -> None:
    """Freeze what exists now and space the collections out. Call once, when start-up is done."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
