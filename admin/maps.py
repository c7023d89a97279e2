"""The map of the Region's départements, drawn on the server as inline SVG, coloured by a count
and labelled with it; the page shows the same data as a table right after it.

The outlines come from admin/data/departements-hdf.json (svg-maps' map of French
départements, based on MapSVG's, Creative Commons BY 4.0), kept to the five départements.
"""

import json
import re
from functools import cache
from pathlib import Path

from markupsafe import Markup, escape

DATA = Path(__file__).parent / "data" / "departements-hdf.json"
# Five steps of the admin's blue, light to dark; labels switch to white on the dark ones.
SHADES = ("#e3e3fd", "#cacafb", "#9a9af8", "#6a6af4", "#000091")
INK, PAPER = "#1b1b1b", "#ffffff"
# The Nord's bounding box centre falls on its thin western strip: its label goes east.
LABEL_SHIFT = {"59": (12.0, 12.0)}


@cache
def _outlines() -> dict:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for departement in data["departements"].values():
        departement["centre"] = _centre(departement["path"])
    return data


def _centre(path: str) -> tuple[float, float]:
    """Returns the middle of a path's bounding box (relative moves and lines, as shipped)."""
    x = y = 0.0
    xs, ys = [], []
    for pair in re.findall(r"-?[\d.]+,-?[\d.]+", path):
        dx, dy = map(float, pair.split(","))
        x, y = x + dx, y + dy
        xs.append(x)
        ys.append(y)
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def departements(title: str, counts: dict[str, int],
                 unit: tuple[str, str] = ("participant", "participants")) -> Markup:
    """Returns the map of the five départements, each shaded by its count and labelled;
    `unit` is the word for what is counted, singular and plural."""

    def counted(n: int) -> str:  # French: 0 and 1 take the singular
        return f"{n} {unit[0] if n <= 1 else unit[1]}"

    data = _outlines()
    x, y, width, height = data["viewBox"]
    largest = max(counts.values(), default=0) or 1
    summary = "; ".join(f"{d['name']} : {counted(counts.get(code, 0))}"
                        for code, d in data["departements"].items())
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="{x} {y} {width} '
             f'{height}" width="{round(width * 4)}" height="{round(height * 4)}" '
             f'class="graphique carte" aria-label="{escape(title)}. {escape(summary)}">',
             f"<title>{escape(title)}</title>", f"<desc>{escape(summary)}</desc>"]
    labels = []
    for code, departement in data["departements"].items():
        n = counts.get(code, 0)
        step = 0 if n == 0 else min(len(SHADES) - 1, 1 + int(3 * n / largest))
        parts.append(f'<path d="{departement["path"]}" fill="{SHADES[step]}" '
                     f'stroke="{PAPER}" stroke-width="0.8"><title>{escape(departement["name"])}'
                     f" : {escape(counted(n))}</title></path>")
        cx, cy = departement["centre"]
        dx, dy = LABEL_SHIFT.get(code, (0.0, 0.0))
        cx, cy = cx + dx, cy + dy
        colour = PAPER if step >= 3 else INK
        labels.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" font-size="6" '
                      f'fill="{colour}">{escape(departement["name"])}</text>'
                      f'<text x="{cx:.1f}" y="{cy + 7:.1f}" text-anchor="middle" '
                      f'font-size="7" font-weight="700" fill="{colour}">{n}</text>')
    parts += labels
    parts.append("</svg>")
    return Markup("".join(parts))
