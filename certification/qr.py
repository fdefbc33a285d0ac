"""A QR code as rows of dark runs, from reportlab's QR encoder (already a dependency): the
certificate draws them on its page, the authenticator's set-up page as SVG. Pure.

Encoding (choosing among the eight masks) is the slow part, so it is done once per code;
reportlab's own widget does it twice, once to measure and once to draw.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from reportlab.graphics.barcode.qr import QrCodeWidget

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


@dataclass(frozen=True)
class QrCode:
    size: int  # modules per side, quiet zone included
    # (row, column, length) of each dark run, counted from the top left
    runs: tuple[tuple[int, int, int], ...]


def encode_qr(value: str) -> QrCode:
    widget = QrCodeWidget(value, barLevel="M")
    widget.qr.make()
    modules = widget.qr.modules
    runs = []
    for row, line in enumerate(modules):
        column = 0
        for dark, group in itertools.groupby(bool(module) for module in line):
            length = len(list(group))
            if dark:
                runs.append((row + QUIET_ZONE, column + QUIET_ZONE, length))
            column += length
    return QrCode(size=len(modules) + 2 * QUIET_ZONE, runs=tuple(runs))
