"""Line and bar charts drawn as inline SVG on the server, so pages need no charting script.

Each function takes labels and values and returns markup safe to put straight into a template.
"""

import math
from collections.abc import Callable, Mapping, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# One colour per series, picked for contrast on white and for readers with red-green colour blindness.
PALETTE = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2")

MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 40


def nice_ticks(max_value: float, *, count: int = 5) -> list[float]:
    """Axis ticks from 0 to at least ``max_value`` in round steps (1, 2, 2.5 or 5 times a power of ten)."""
    if max_value <= 0 or not math.isfinite(max_value):
        return [0.0, 1.0]
    raw_step = max_value / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if step >= raw_step:
            break
    top = math.ceil(max_value / step - 1e-9) * step
    ticks = []
    value = 0.0
    while value <= top + step / 2:
        ticks.append(round(value, 10))
        value += step
    return ticks


def compact_number(value: float) -> str:
    """1234 -> '1.2k', 2500000 -> '2.5M', 0.25 -> '0.25'."""
    magnitude = abs(value)
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if magnitude >= 1_000:
        return f"{value / 1_000:.1f}".rstrip("0").rstrip(".") + "k"
    if magnitude == 0 or magnitude >= 1:
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _check_lengths(labels: Sequence[str], values: Sequence[float], name: str) -> None:
    if len(values) != len(labels):
        raise ValueError(f"Series {name!r} has {len(values)} values for {len(labels)} labels")


def _frame(
    *,
    width: int,
    height: int,
    title: str,
    ticks: list[float],
    format_value: Callable[[float], str],
) -> tuple[list[str], Callable[[float], float]]:
    plot_height = height - MARGIN_TOP - MARGIN_BOTTOM
    top = ticks[-1] or 1.0

    def y_of(value: float) -> float:
        return MARGIN_TOP + plot_height * (1 - max(0.0, value) / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" '
        f'role="img" aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{width - MARGIN_RIGHT}" y2="{y:.1f}" />'
        )
        parts.append(
            f'<text class="tick y-tick" x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(format_value(tick))}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" '
        f'y2="{height - MARGIN_BOTTOM}" />'
    )
    parts.append(
        f'<line class="axis" x1="{MARGIN_LEFT}" y1="{height - MARGIN_BOTTOM}" '
        f'x2="{width - MARGIN_RIGHT}" y2="{height - MARGIN_BOTTOM}" />'
    )
    return parts, y_of


# Average width of a character of the 11px tick font, to keep x labels from running into each other.
TICK_CHAR_WIDTH = 6.5


def _x_labels(
    labels: Sequence[str], xs: Sequence[float], *, width: int, height: int, max_labels: int
) -> list[str]:
    every = max(1, math.ceil(len(labels) / max_labels))
    if len(xs) > 1:
        spacing = abs(xs[1] - xs[0])
        widest = max(len(label) for label in labels) * TICK_CHAR_WIDTH + 8
        every = max(every, math.ceil(widest / spacing))
    parts = []
    last = len(labels) - 1
    left_of_next = math.inf  # where the label to the right of this one starts
    for index in range(last, -1, -1):
        label, x = labels[index], xs[index]
        # Counted back from the last label, which is always shown (the most recent period).
        if (last - index) % every:
            continue
        # A label centred on a point near an edge would be cut off: it ends (or starts) there instead.
        half = len(label) * TICK_CHAR_WIDTH / 2
        anchor = "end" if x + half > width else "start" if x - half < 0 else "middle"
        left = {"end": x - 2 * half, "start": x, "middle": x - half}[anchor]
        if (
            left + 2 * half + 4 > left_of_next
        ):  # moved off its point by the edge, it would run into the next one
            continue
        left_of_next = left
        parts.append(
            f'<text class="tick x-tick" x="{x:.1f}" y="{height - MARGIN_BOTTOM + 16}" '
            f'text-anchor="{anchor}">{escape(label)}</text>'
        )
    parts.reverse()
    return parts


def _empty(title: str, width: int, height: int) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart empty" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No data yet</text></svg>'
    )


def line_chart_svg(
    *,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str,
    width: int = 640,
    height: int = 240,
    format_value: Callable[[float], str] = compact_number,
    max_labels: int = 12,
) -> SafeString:
    """One polyline per series over shared x labels; ``None`` values break the line."""
    for name, values in series.items():
        _check_lengths(labels, values, name)
    known = [value for values in series.values() for value in values if value is not None]
    if not labels or not known:
        return _empty(title, width, height)
    ticks = nice_ticks(max(known))
    parts, y_of = _frame(width=width, height=height, title=title, ticks=ticks, format_value=format_value)
    plot_width = width - MARGIN_LEFT - MARGIN_RIGHT
    step = plot_width / max(1, len(labels) - 1)
    xs = [MARGIN_LEFT + (step * index if len(labels) > 1 else plot_width / 2) for index in range(len(labels))]
    parts += _x_labels(labels, xs, width=width, height=height, max_labels=max_labels)
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for x, value in zip(xs, values, strict=True):
            if value is None:
                segments.append([])
                continue
            segments[-1].append(f"{x:.1f},{y_of(value):.1f}")
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y_of(value):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(name)}: {escape(format_value(value))}</title></circle>"
            )
        for points in segments:
            if len(points) > 1:
                parts.append(
                    f'<polyline class="series" data-series="{escape(name)}" fill="none" '
                    f'stroke="{colour}" stroke-width="2" points="{" ".join(points)}" />'
                )
    parts += _legend(list(series), width=width)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def bar_chart_svg(
    *,
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    width: int = 640,
    height: int = 240,
    format_value: Callable[[float], str] = compact_number,
    max_labels: int = 16,
) -> SafeString:
    """Vertical bars, one per label, each with its value as a tooltip, and printed above it where the
    bars leave room for every value; ``None`` is a slot with no bar (a break)."""
    _check_lengths(labels, values, title)
    known = [value for value in values if value is not None]
    if not labels or not known:
        return _empty(title, width, height)
    ticks = nice_ticks(max(known))
    parts, y_of = _frame(width=width, height=height, title=title, ticks=ticks, format_value=format_value)
    plot_width = width - MARGIN_LEFT - MARGIN_RIGHT
    slot = plot_width / len(labels)
    bar_width = slot * 0.7
    xs = [MARGIN_LEFT + slot * (index + 0.5) for index in range(len(labels))]
    baseline = y_of(0)
    widest_value = max(len(format_value(value)) for value in known) * TICK_CHAR_WIDTH
    printed = widest_value + 2 <= slot
    for label, value, x in zip(labels, values, xs, strict=True):
        if value is None:
            continue
        top = y_of(value)
        parts.append(
            f'<rect class="bar" x="{x - bar_width / 2:.1f}" y="{top:.1f}" width="{bar_width:.1f}" '
            f'height="{baseline - top:.1f}" fill="{PALETTE[0]}" data-value="{value}">'
            f"<title>{escape(label)}: {escape(format_value(value))}</title></rect>"
        )
        if printed:
            parts.append(
                f'<text class="bar-value" x="{x:.1f}" y="{top - 4:.1f}" text-anchor="middle">'
                f"{escape(format_value(value))}</text>"
            )
    parts += _x_labels(labels, xs, width=width, height=height, max_labels=max_labels)
    parts.append("</svg>")
    return mark_safe("".join(parts))


def hbar_chart_svg(
    *,
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    width: int = 480,
    bar_height: int = 18,
    label_width: int = 130,
    format_value: Callable[[float], str] = compact_number,
) -> SafeString:
    """Horizontal bars with their names on the left: for categories with long names."""
    _check_lengths(labels, values, title)
    if not labels:
        return _empty(title, width, 120)
    gap = 6
    top_margin = 8
    height = top_margin * 2 + len(labels) * (bar_height + gap)
    plot_width = width - label_width - 56
    largest = max(values) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart hbar" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top_margin + index * (bar_height + gap)
        length = plot_width * value / largest
        parts.append(
            f'<text class="tick y-tick" x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{PALETTE[0]}" data-value="{value}">'
            f"<title>{escape(label)}: {escape(format_value(value))}</title></rect>"
        )
        parts.append(
            f'<text class="bar-value" x="{label_width + length + 4:.1f}" y="{y + bar_height * 0.7:.1f}">'
            f"{escape(format_value(value))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _legend(names: list[str], *, width: int) -> list[str]:
    if len(names) < 2:
        return []
    parts = []
    x = MARGIN_LEFT
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<g class="legend"><rect x="{x}" y="{MARGIN_TOP - 12}" width="10" height="10" fill="{colour}" />'
            f'<text x="{x + 14}" y="{MARGIN_TOP - 3}">{escape(name)}</text></g>'
        )
        x += 24 + 7 * len(name)
    return parts
