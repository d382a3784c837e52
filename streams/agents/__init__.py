"""Thin agents: each reads one topic, calls pure code, writes topics. Importing registers them."""

from streams.agents import dedup, score, validate
from streams.app import app

__all__ = ["app", "dedup", "score", "validate"]
