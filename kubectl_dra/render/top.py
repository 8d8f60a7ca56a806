"""The `top` table: one row per group, devices used/free as a bar, counters and capacity used.

Piped (or NO_COLOR): plain ASCII, the bar ``[###==!!...]`` (``#`` held by a claim, ``=`` blocked because its
shared counters are used up, ``!`` free but tainted NoSchedule/NoExecute, ``?`` free but in a pool whose
slices are not all published, which the allocator does not use yet, ``.`` free).  On a colour terminal the same bar in coloured blocks.
"""

from __future__ import annotations

from kubectl_dra.render.output import colour_on, make_console, write

BAR_WIDTH = 20
_FIRST_COLUMNS = {"node": ["NODE"], "class": ["CLASS"], "driver": ["DRIVER"], "pool": ["DRIVER", "POOL"]}
#: (plain character, terminal character, terminal style) of the bar's three segments
_SEGMENTS = {"held": ("#", "█", "red"), "unavailable": ("=", "█", "yellow"), "tainted": ("!", "░", "yellow"),
             "incompletePool": ("?", "░", "magenta"), "free": (".", "░", "green")}


def bar_widths(devices: dict, width: int = BAR_WIDTH) -> dict:
    """How many of the bar's ``width`` characters each segment gets: in proportion, but a segment that
    has any device never disappears (1 of 1,000 held still shows), and the total is always ``width``."""
    total = devices["total"]
    # (a free device both tainted and in an incomplete pool is drawn once, as in an incomplete pool)
    unseen = devices.get("incompletePool", 0)
    tainted = min(devices.get("tainted", 0), devices["free"] - unseen)
    counts = {"held": devices["held"], "unavailable": devices["unavailable"], "tainted": tainted,
              "incompletePool": unseen, "free": devices["free"] - tainted - unseen}
    if not total:
        return {k: 0 for k in counts}
    w = {k: max(1, round(v * width / total)) if v else 0 for k, v in counts.items()}
    while sum(w.values()) > width:  # take from the widest segment that can spare a character
        k = max((k for k in w if w[k] > 1), key=lambda k: w[k])
        w[k] -= 1
    while sum(w.values()) < width:
        k = max(w, key=lambda k: (counts[k] * width / total - w[k], counts[k]))
        w[k] += 1
    return w


def _amounts_text(rows: list[dict]) -> str:
    """``memory 70Gi/80Gi (87%), memorySlices 14/16 (87%)``; a name two drivers use is told apart by its driver."""
    names = [r["name"] for r in rows]
    return ", ".join((r["name"] if names.count(r["name"]) == 1 else f"{r['driver']}/{r['name']}")
                     + f" {r['used']}/{r['total']}" + (f" ({r['percent']}%)" if r["percent"] is not None else "")
                     for r in rows)


def _free_notes(devices: dict, colour: bool) -> list:
    """What FREE has to add: `` (2 tainted)``, `` (4 in incomplete pools)``."""
    notes = ([f"{devices['tainted']} tainted"] if devices.get("tainted") else []) + (
        [f"{devices['incompletePool']} in incomplete pools"] if devices.get("incompletePool") else [])
    return [(f" ({', '.join(notes)})", "yellow" if colour else None)] if notes else []


def _percent_style(pct: int) -> str:
    return "green" if pct < 70 else "yellow" if pct < 90 else "red"


def render_text(report: dict, *, no_headers: bool = False, total: bool = False) -> None:
    """The table of a :func:`kubectl_dra.analysis.top.device_top` report; ``total`` (--sum): then, under a
    line of underscores as `kubectl top pod --sum` draws it, the report's total (every device once)."""
    import sys

    groups = report["groups"]
    if not groups:
        sys.stderr.write("No devices found.\n")
        return
    console = make_console() if colour_on() else None  # (piped: plain text, without loading rich)
    colour = console is not None and console.color_system is not None  # (a terminal rich finds colourless)
    headers = _FIRST_COLUMNS[report["by"]] + ["DEVICES", "USED", "FREE", "USAGE", "COUNTERS", "CAPACITY"]
    # each cell: list of (text, style) pieces
    rows = []
    first_columns = len(_FIRST_COLUMNS[report["by"]])
    for g in groups + ([{"name": "", "driver": "", **report["total"]}] if total else []):
        d = g["devices"]
        widths = bar_widths(d)
        bar = [("[", None)] + [(_SEGMENTS[k][1 if colour else 0] * widths[k], _SEGMENTS[k][2] if colour else None)
                               for k in _SEGMENTS if widths[k]] + [("]", None)]
        if not d["total"]:
            bar = [("[" + " " * BAR_WIDTH + "]", None)]
        pct = d["used"] * 100 // d["total"] if d["total"] else None  # floored, as kubectl top does
        bar.append((f" {pct:>3}%" if pct is not None else "    -", _percent_style(pct) if colour and pct is not None else None))
        first = [g["driver"], g["name"]] if report["by"] == "pool" else [g["name"]]
        cells = [[(c, None)] for c in first] + [
            [(str(d["total"]), None)], [(str(d["used"]), None)], [(str(d["free"]), None)] + _free_notes(d, colour), bar,
            [(_amounts_text(g["counters"]) or "<none>", None)], [(_amounts_text(g["capacity"]) or "<none>", None)],
        ]
        rows.append(cells)
    table = ([] if no_headers else [[[(h, None)] for h in headers]]) + rows
    widths = [max(sum(len(t) for t, _ in row[i]) for row in table) for i in range(len(headers))]
    if total:  # the line over the total: underscores as wide as each column (kubectl top pod --sum)
        rule = [[("", None)]] * first_columns + [[("_" * widths[i], None)] for i in range(first_columns, len(headers))]
        table.insert(len(table) - 1, rule)
    if not colour:
        lines = []
        for row in table:
            cells = ["".join(t for t, _ in cell) for cell in row]
            lines.append("   ".join(c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip())
        write("\n".join(lines) + "\n")
        return
    from rich.text import Text

    for n, row in enumerate(table):
        line = Text()
        for i, cell in enumerate(row):
            length = 0
            for t, style in cell:
                line.append(t, style=style or ("bold" if n == 0 and not no_headers else None))
                length += len(t)
            if i < len(row) - 1:
                line.append(" " * (widths[i] - length + 3))
        line.rstrip()
        console.print(line, soft_wrap=True, crop=False)
