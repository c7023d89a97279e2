"""Charts drawn on the server as inline SVG: no script, no style attribute, printable; each
page shows the chart's data as a table right after it."""

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = "#000091"  # the admin's blue: contrast above 7:1 on white
SECOND = "#6a6af4"
# A second series (e.g. the population beside the participants) differs in colour and in
# pattern, so it stays apart in black and white and for colour-blind readers.
OTHER = "#a94b00"  # contrast above 4.5:1 on white
INK = "#1b1b1b"
GRID = "#dddddd"
LABEL_CHARS = 34


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its count and, when it has one, its share."""

    label: str
    count: int
    share: float | None = None
    series: int = 0  # 0: the main series, 1: the one compared with it (hatched)


def scrolling(title: str, svg: Markup) -> Markup:
    """Puts a chart in a region that scrolls sideways on a narrow screen: the chart keeps a
    readable size there (at least about 10 px letters) rather than shrinking."""
    return Markup(f'<div class="defile graphique-defile" role="region" tabindex="0" '
                  f'aria-label="{escape(title)} (défile horizontalement)">{svg}</div>')


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"


def _short(label: str) -> str:
    """Cuts a long label; the table under the chart holds it whole."""
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"


def _open(width: int, height: int, title: str, description: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" '
            f'aria-label="{escape(title)}. {escape(description)}" class="graphique">',
            f"<title>{escape(title)}</title>", f"<desc>{escape(description)}</desc>"]


def bars(title: str, items: Sequence[Bar], by_share: bool = False,
         legend: tuple[str, str] | None = None) -> Markup:
    """Returns a horizontal bar chart with each bar's label, count and share; bars are as
    long as their count, or as their share (to set small counts against large ones). With a
    legend, bars of series 1 are hatched in another colour and the legend names both."""
    row, label_width, bar_width, width = 30, 250, 300, 680
    top = 8 + (24 if legend else 0)
    height = top + 8 + row * max(len(items), 1)
    sizes = [(item.share or 0) if by_share else item.count for item in items]
    largest = max(sizes, default=0) or 1
    summary = "; ".join(f"{item.label} : {_number(item.count)}"
                        + (f" ({_percent(item.share)})" if item.share is not None else "")
                        for item in items) or "aucune donnée"
    parts = _open(width, height, title, summary)
    hatch = f"hachures-{zlib.crc32(title.encode()):08x}"  # one per chart on a page
    if legend:
        parts += [f'<defs><pattern id="{hatch}" width="6" height="6" '
                  f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
                  f'<rect width="6" height="6" fill="#ffffff"/>'
                  f'<rect width="3" height="6" fill="{OTHER}"/></pattern></defs>',
                  f'<rect x="{label_width}" y="6" width="14" height="14" fill="{BAR}"/>',
                  f'<text x="{label_width + 20}" y="18" fill="{INK}" font-size="13">'
                  f'{escape(legend[0])}</text>',
                  f'<rect x="{label_width + 170}" y="6" width="14" height="14" '
                  f'fill="url(#{hatch})" stroke="{OTHER}"/>',
                  f'<text x="{label_width + 190}" y="18" fill="{INK}" font-size="13">'
                  f'{escape(legend[1])}</text>']
    for index, (item, size) in enumerate(zip(items, sizes, strict=True)):
        y = top + index * row
        length = round(bar_width * size / largest)
        value = _number(item.count) + (f" · {_percent(item.share)}"
                                       if item.share is not None else "")
        fill = f'fill="url(#{hatch})" stroke="{OTHER}"' if legend and item.series else \
            f'fill="{BAR}"'
        parts += [
            f'<text x="{label_width - 8}" y="{y + 19}" text-anchor="end" fill="{INK}" '
            f'font-size="13">{escape(_short(item.label))}</text>',
            f'<rect x="{label_width}" y="{y + 5}" width="{max(length, 1)}" height="20" '
            f'{fill}/>',
            f'<text x="{label_width + length + 6}" y="{y + 19}" fill="{INK}" '
            f'font-size="13">{escape(value)}</text>']
    parts.append("</svg>")
    return scrolling(title, Markup("\n".join(parts)))


@dataclass(frozen=True)
class Column:
    """One period of a column chart: its label, its total and a part of it."""

    label: str
    total: int
    part: int


def columns(title: str, items: Sequence[Column], total_name: str, part_name: str) -> Markup:
    """Returns a column chart over time: each column the total, its lower part darker."""
    left, top, bottom, plot_height = 48, 10, 46, 160
    step = max(6, min(40, 640 // max(len(items), 1)))
    # Wide enough for the legend's two entries, however few the periods.
    end = left + step * max(len(items), 1)
    width = max(end + 10, left + 380)
    height = top + plot_height + bottom
    largest = max((item.total for item in items), default=0) or 1
    summary = (f"{len(items)} périodes ; " + "; ".join(
        f"{item.label} : {_number(item.total)} {total_name}, {_number(item.part)} {part_name}"
        for item in items)) if items else "aucune donnée"
    parts = _open(width, height, title, summary)
    base = top + plot_height
    parts += [f'<line x1="{left}" y1="{base}" x2="{end}" y2="{base}" stroke="{INK}"/>',
              f'<line x1="{left}" y1="{top}" x2="{end}" y2="{top}" stroke="{GRID}"/>',
              f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{INK}" '
              f'font-size="11">{_number(largest)}</text>',
              f'<text x="{left - 6}" y="{base + 4}" text-anchor="end" fill="{INK}" '
              f'font-size="11">0</text>']
    # At most about eight dates under the axis, never overlapping (11 px digits are ~7 px).
    label_width = 7 * max((len(item.label) for item in items), default=0) + 8
    every = max(1, len(items) // 8, -(-label_width // step))
    for index, item in enumerate(items):
        x = left + index * step + 1
        total = round(plot_height * item.total / largest)
        part = round(plot_height * item.part / largest)
        parts += [f'<rect x="{x}" y="{base - total}" width="{step - 2}" height="{total}" '
                  f'fill="{SECOND}"/>',
                  f'<rect x="{x}" y="{base - part}" width="{step - 2}" height="{part}" '
                  f'fill="{BAR}"/>']
        if index % every == 0:
            parts.append(f'<text x="{x}" y="{base + 16}" fill="{INK}" font-size="11">'
                         f'{escape(item.label)}</text>')
    legend = base + 36
    parts += [f'<rect x="{left}" y="{legend - 10}" width="12" height="12" fill="{SECOND}"/>',
              f'<text x="{left + 16}" y="{legend}" fill="{INK}" font-size="12">'
              f'{escape(total_name)}</text>',
              f'<rect x="{left + 180}" y="{legend - 10}" width="12" height="12" '
              f'fill="{BAR}"/>',
              f'<text x="{left + 196}" y="{legend}" fill="{INK}" font-size="12">'
              f'{escape(part_name)}</text>', "</svg>"]
    return scrolling(title, Markup("\n".join(parts)))
