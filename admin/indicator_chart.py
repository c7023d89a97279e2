"""An indicator's measurements over time against its target, as an inline SVG line chart."""

from collections.abc import Sequence

from markupsafe import Markup, escape

from admin.charts import BAR, GRID, INK, OTHER, _open, scrolling
from bot.engine.text import french_number


def history(title: str, points: Sequence[tuple[str, float]], target: float | None,
            unit: str) -> Markup:
    """Returns a line through the dated values, the target as a dashed line (the page's
    table beside it holds every value)."""
    left, top, plot_width, plot_height, bottom = 56, 12, 520, 150, 40
    width, height = left + plot_width + 20, top + plot_height + bottom
    values = [value for _, value in points] + ([target] if target is not None else [])
    largest = max(values, default=0) or 1
    summary = "; ".join(f"{label} : {french_number(value)} {unit}".strip()
                        for label, value in points) or "aucune mesure"
    if target is not None:
        summary += f" ; cible {french_number(target)} {unit}".rstrip()
    parts = _open(width, height, title, summary)
    base = top + plot_height

    def y(value: float) -> float:
        return round(base - plot_height * value / largest, 1)

    parts += [f'<line x1="{left}" y1="{base}" x2="{left + plot_width}" y2="{base}" '
              f'stroke="{INK}"/>',
              f'<line x1="{left}" y1="{top}" x2="{left + plot_width}" y2="{top}" '
              f'stroke="{GRID}"/>',
              f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{INK}" '
              f'font-size="11">{french_number(largest)}</text>',
              f'<text x="{left - 6}" y="{base + 4}" text-anchor="end" fill="{INK}" '
              f'font-size="11">0</text>']
    if target is not None:
        parts += [f'<line x1="{left}" y1="{y(target)}" x2="{left + plot_width}" '
                  f'y2="{y(target)}" stroke="{OTHER}" stroke-width="2" '
                  f'stroke-dasharray="6 4"/>',
                  f'<text x="{left + plot_width}" y="{y(target) - 4}" text-anchor="end" '
                  f'fill="{OTHER}" font-size="12">cible {escape(french_number(target))}</text>']
    step = plot_width / max(len(points) - 1, 1)
    xy = [(round(left + index * step, 1), y(value)) for index, (_, value) in enumerate(points)]
    if len(xy) > 1:
        parts.append(f'<polyline fill="none" stroke="{BAR}" stroke-width="2" points="'
                     + " ".join(f"{x},{v}" for x, v in xy) + '"/>')
    for x, v in xy:
        parts.append(f'<circle cx="{x}" cy="{v}" r="3" fill="{BAR}"/>')
    if points:
        parts += [f'<text x="{left}" y="{base + 16}" fill="{INK}" font-size="11">'
                  f'{escape(points[0][0])}</text>',
                  f'<text x="{left + plot_width}" y="{base + 16}" text-anchor="end" '
                  f'fill="{INK}" font-size="11">{escape(points[-1][0])}</text>']
    parts.append("</svg>")
    return scrolling(title, Markup("\n".join(parts)))
