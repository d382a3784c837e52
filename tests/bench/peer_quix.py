"""The peer job written as a quix-streams user would write it (run by `tests/bench/peer.py` with
the interpreter of the bench's own quix-streams environment, never imported by the project):

    python peer_quix.py BOOTSTRAP INPUT_TOPIC PREFIX STATE_DIR

One StreamingDataFrame over the input: junk to the dead letters, exact duplicate event ids dropped
(per-key RocksDB state), points per Shanghai day capped at 300 (state), one ledger record per
event with a deterministic id, and the manager's total on a compacted standings topic. At least
once, acks=all, quix's default checkpointing. Runs until SIGTERM.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from quixstreams import Application, State
from quixstreams.models import TopicConfig

SHANGHAI = timezone(timedelta(hours=8))
DAILY_CAP = 300


def parse(raw: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw)
        data = event["data"]
        return {
            "event_id": event["event_id"],
            "cm_id": data["cm_id"],
            "day": datetime.fromisoformat(event["occurred_at"]).astimezone(SHANGHAI).date().isoformat(),
            "account_type": data["account_type"],
            "segment": data["segment"],
            "new_firm": bool(data["new_firm"]),
        }
    except (ValueError, KeyError, TypeError):
        return {"junk": raw.decode("utf-8", "replace")}


def first_seen(event: dict[str, Any], state: State) -> bool:
    key = "seen:" + event["event_id"]
    if state.get(key):
        return False
    state.set(key, True)
    return True


def points(event: dict[str, Any]) -> int:
    if event["account_type"] != "basic":
        return 4 if event["account_type"] == "general" else 0
    return 10 + (2 if event["segment"] == "non_credit" else 0) + (3 if event["new_firm"] else 0)


def score(event: dict[str, Any], state: State) -> dict[str, Any]:
    day_key = "day:" + event["day"]
    used = state.get(day_key, 0)
    earned = min(points(event), max(0, DAILY_CAP - used))
    state.set(day_key, used + earned)
    total = state.get("total", 0) + earned
    state.set("total", total)
    return {
        "id": f"{event['event_id']}|peer-job",
        "event_id": event["event_id"],
        "cm_id": event["cm_id"],
        "day": event["day"],
        "points": earned,
        "total": total,
    }


def main(bootstrap: str, input_topic: str, prefix: str, state_dir: str) -> None:
    app = Application(
        broker_address=bootstrap,
        consumer_group=f"{prefix}quix",
        auto_offset_reset="earliest",
        state_dir=state_dir,
        processing_guarantee="at-least-once",
        producer_extra_config={"acks": "all"},
        loglevel="WARNING",
    )
    raw = app.topic(input_topic, value_deserializer="bytes", key_deserializer="str")
    dead = app.topic(f"{prefix}dead", value_serializer="str", key_serializer="str")
    ledger = app.topic(f"{prefix}ledger", key_serializer="str")
    standings = app.topic(
        f"{prefix}standings",
        key_serializer="str",
        config=TopicConfig(
            num_partitions=4, replication_factor=1, extra_config={"cleanup.policy": "compact"}
        ),
    )

    sdf = app.dataframe(raw).apply(parse)
    sdf.filter(lambda e: "junk" in e).apply(lambda e: e["junk"]).to_topic(dead)
    scored = (
        sdf.filter(lambda e: "junk" not in e).filter(first_seen, stateful=True).apply(score, stateful=True)
    )
    scored.to_topic(ledger)
    scored.apply(lambda r: {"cm_id": r["cm_id"], "points": r["total"]}).to_topic(standings)
    app.run()


if __name__ == "__main__":
    main(*sys.argv[1:5])
