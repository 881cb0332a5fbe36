"""Grouped-query attention as the Attention panel draws it, with no widgets: a colour per K/V
group (the query heads of one group share it), and the spans of heads each group covers."""
from __future__ import annotations

# Light enough for dark text on top, distinct side by side (ColorBrewer Set3 and Pastel1).
GROUP_COLOURS = ("#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69",
                 "#fccde5", "#ffffb3", "#bc80bd", "#ccebc5", "#ffed6f", "#d9d9d9")


def group_colour(group: int) -> str:
    """The colour of K/V group `group` (repeating past twelve groups)."""
    return GROUP_COLOURS[group % len(GROUP_COLOURS)]


def group_spans(groups: list[int]) -> list[tuple[int, int, int]]:
    """(group, first head, last head) of each run of query heads reading one K/V head."""
    spans: list[tuple[int, int, int]] = []
    for head, g in enumerate(groups):
        if spans and spans[-1][0] == g:
            spans[-1] = (g, spans[-1][1], head)
        else:
            spans.append((g, head, head))
    return spans


def format_bytes(n: int) -> str:
    """1536 -> '1.5 KiB': the cache figures read at a glance."""
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} MiB"
