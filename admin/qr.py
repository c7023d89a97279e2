"""QR codes of invitations: inline SVG that the Content-Security-Policy accepts, and the SVG
and PNG files printed on flyers."""

import re
from pathlib import Path

import segno
from markupsafe import Markup, escape

# Printed at 1 mm per module, a link's QR code is under 4 cm wide and scans from arm's length.
ERROR = "m"
BORDER = 4
PNG_SCALE = 12  # pixels per module; at 300 dpi, 1 mm
PNG_DPI = 300


def svg(content: str, label: str, scale: int | None = None) -> Markup:
    """Returns the QR code of `content` as inline SVG described by `label`: sized by the
    stylesheet, or `scale` pixels a module when given."""
    code = segno.make(content, error=ERROR, boost_error=False)
    drawn = code.svg_inline(border=BORDER, omitsize=scale is None, scale=scale or 1, svgclass="qr",
                            lineclass=None)
    # The CSP refuses inline styles; segno writes none today, this keeps it so.
    drawn = re.sub(r'\sstyle="[^"]*"', "", drawn)
    return Markup(drawn.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))


def write(content: str, directory: Path, stem: str) -> tuple[Path, Path]:
    """Writes the QR code of `content` as `stem`.svg and `stem`.png; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    code = segno.make(content, error=ERROR, boost_error=False)
    svg, png = directory / f"{stem}.svg", directory / f"{stem}.png"
    code.save(svg, kind="svg", scale=1, unit="mm", border=BORDER)
    code.save(png, kind="png", scale=PNG_SCALE, border=BORDER, dpi=PNG_DPI)
    return svg, png
