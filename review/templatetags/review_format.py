"""Formatting for the review pages: rates as percentages, and "—" where a number is undefined."""

from django import template

register = template.Library()

MISSING = "—"


@register.filter
def pct(value) -> str:
    """0.8125 → "81.3%"; None → "—"."""
    return MISSING if value is None else f"{100 * value:.1f}%"


@register.filter
def num(value, digits: int = 2) -> str:
    """A float rounded to ``digits`` places; None → "—"."""
    return MISSING if value is None else f"{value:.{int(digits)}f}"
