"""Small helpers for the sentences users read: counts with their nouns ("1 token")."""
from __future__ import annotations


def plural(n: int, noun: str, many: str | None = None) -> str:
    """"1 token", "2 tokens", "1,200 tokens" (`many` for irregular plurals)."""
    return f"{n:,} {noun if n == 1 else (many or noun + 's')}"
