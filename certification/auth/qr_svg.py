"""A QR code as inline SVG, drawn from reportlab's QR encoder (already a dependency).

One ``<path>`` with a fill attribute and no ``style``: the Content-Security-Policy allows no
inline styles, and presentation attributes are not styles. Pure: text in, markup out.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from reportlab.graphics.barcode.qr import QrCodeWidget

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_svg(value: str, *, label: str, size_px: int = 220) -> Markup:
    """``value`` as a scannable QR code, ``label`` its accessible name."""
    widget = QrCodeWidget(value, barLevel="M")
    widget.qr.make()
    modules = widget.qr.modules
    count = len(modules)
    side = count + 2 * QUIET_ZONE
    path = "".join(
        f"M{col + QUIET_ZONE},{row + QUIET_ZONE}h1v1h-1z"
        for row, line in enumerate(modules)
        for col, dark in enumerate(line)
        if dark
    )
    return Markup(  # noqa: S704 - numbers we made, and the label escaped  # nosec B704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}"'
        f' width="{size_px}" height="{size_px}" role="img" aria-label="{escape(label)}"'
        f' shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
