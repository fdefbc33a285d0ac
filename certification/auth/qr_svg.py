"""A QR code as inline SVG.

One ``<path>`` with a fill attribute and no ``style``: the Content-Security-Policy allows no
inline styles, and presentation attributes are not styles. Pure: text in, markup out.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from certification.qr import encode_qr


def qr_svg(value: str, *, label: str, size_px: int = 220) -> Markup:
    """``value`` as a scannable QR code, ``label`` its accessible name."""
    code = encode_qr(value)
    side = code.size
    path = "".join(f"M{column},{row}h{length}v1h-{length}z" for row, column, length in code.runs)
    return Markup(  # noqa: S704 - numbers we made, and the label escaped  # nosec B704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}"'
        f' width="{size_px}" height="{size_px}" role="img" aria-label="{escape(label)}"'
        f' shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
