"""The page of a long list that the administrator asked for."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request
from flask_sqlalchemy.pagination import Pagination

from certification.extensions import db


def paginate(statement: sa.Select[Any], per_page: int) -> Pagination:
    """The ``?page=`` asked for of ``statement``'s rows; a page that is not a whole number is
    the first, one below 1 is not found (404)."""
    return db.paginate(statement, page=request.args.get("page", 1, type=int), per_page=per_page)
