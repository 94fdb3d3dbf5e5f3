"""Formatting for the analytics pages: a table cell by its column's kind, and "—" where undefined."""

from django import template

register = template.Library()

MISSING = "—"


@register.filter
def cell(value, kind: str) -> str:
    """A table value shown by kind: int 12,345; pct 81.3%; num 2.50; money 1,234.50; date ISO; else text."""
    if value is None:
        return MISSING
    if kind == "int":
        return f"{value:,}"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "num":
        return f"{value:,.2f}"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "date":
        return value.isoformat()[:16].replace("T", " ")
    return str(value)


@register.filter
def index(sequence, position: int):
    """``sequence[position]`` in a template."""
    return sequence[position]
