"""``as_of`` as the user writes it: a ``date``, a ``datetime`` (its day) or an ISO string ``YYYY-MM-DD``."""

from __future__ import annotations

from datetime import date, datetime


def as_date(value: date | datetime | str | None, what: str = "as_of") -> date | None:
    """The day ``value`` names; a string that is not an ISO date is an error that says so (not a Polars
    schema error three calls down)."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not a date; write it as YYYY-MM-DD (e.g. 2024-01-15)") from None
    raise TypeError(f"{what}: expected a date or a YYYY-MM-DD string, got {type(value).__name__}")
