"""Bar charts as plain geometry for server-rendered SVG (``templates/dashboard/_chart.html``).

No JavaScript and no chart library: the template draws the bars, the axis and a text summary
(``<title>``/``<desc>``), and the page shows the same numbers in a table for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 40  # room for the value axis and the week labels


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    unit: str
    bars: list[Bar]
    ticks: list[Tick]
    baseline: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT

    @property
    def heading(self) -> str:
        return f"{self.title} ({self.unit})" if self.unit else self.title

    @property
    def label_y(self) -> int:
        return self.height - BOTTOM + 16


def nice_step(span: float, steps: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) that splits ``span`` in about ``steps``."""
    if span <= 0:
        return 1.0
    raw = span / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def bar_chart(
    chart_id: str,
    title: str,
    unit: str,
    points: Sequence[tuple[str, float]],
    fmt: Callable[[float], str] = lambda value: f"{value:,.0f}",
) -> Chart:
    """Bars for ``(label, value)`` points; negative values hang below the zero line."""
    values = [value for _, value in points] or [0.0]
    step = nice_step(max([*values, 0.0]) - min([*values, 0.0]))
    top = step * math.ceil(max(max(values), 0.0) / step) or step
    bottom = step * math.floor(min(min(values), 0.0) / step)
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM

    def y(value: float) -> float:
        return round(plot_bottom - (value - bottom) / (top - bottom) * (plot_bottom - plot_top), 1)

    slot = (WIDTH - LEFT - RIGHT) / max(len(points), 1)
    bars = [
        Bar(
            label=label,
            value_text=fmt(value),
            x=round(LEFT + index * slot + slot * 0.15, 1),
            y=min(y(value), y(0.0)),
            width=round(slot * 0.7, 1),
            height=round(abs(y(value) - y(0.0)), 1),
        )
        for index, (label, value) in enumerate(points)
    ]
    count = round((top - bottom) / step)
    ticks = [Tick(y(bottom + i * step), fmt(bottom + i * step)) for i in range(count + 1)]
    heading = f"{title} ({unit})" if unit else title
    return Chart(chart_id, title, _describe(heading, points, fmt), unit, bars, ticks, y(0.0))


def _describe(heading: str, points: Sequence[tuple[str, float]], fmt: Callable[[float], str]) -> str:
    """What a sighted reader takes from the chart, in one sentence."""
    if not points:
        return f"{heading}: no data."
    best_label, best = max(points, key=lambda point: point[1])
    total = sum(value for _, value in points)
    first, last = points[0][0], points[-1][0]
    return (
        f"{heading}, weeks of {first} to {last}: total {fmt(total)}; "
        f"highest {fmt(best)} in the week of {best_label}; latest week {fmt(points[-1][1])}."
    )
