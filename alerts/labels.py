"""The words and dates of a message in its language (Spanish unless the channel says ``en``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "by": "Por",
        "rule": "Regla",
        "rules": "Reglas",
        "score": "puntuación",
        "terms": "Términos",
        "entities": "Entidades",
        "also_in": "También en",
        "copy_in": "También en",
        "untitled": "(sin título)",
        "digest": "Resumen",
        "hourly": "de la última hora",
        "daily": "del día",
        "stories": "notas",
        "more": "y {n} más",
        "copies_later": "Copias de notas ya enviadas",
        "open": "Abrir",
    },
    "en": {
        "by": "By",
        "rule": "Rule",
        "rules": "Rules",
        "score": "score",
        "terms": "Terms",
        "entities": "Entities",
        "also_in": "Also in",
        "copy_in": "Also in",
        "untitled": "(untitled)",
        "digest": "Digest",
        "hourly": "for the last hour",
        "daily": "for the day",
        "stories": "stories",
        "more": "and {n} more",
        "copies_later": "Copies of stories already posted",
        "open": "Open",
    },
}

MONTHS = {
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}

# A published date further ahead than this is a page's mistake (year 9998): shown as none.
FUTURE_SLACK = timedelta(days=1)


def labels(locale: str) -> dict[str, str]:
    return LABELS.get((locale or "es").lower()[:2], LABELS["es"])


def format_date(value: datetime | None, locale: str) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    if value > datetime.now(UTC) + FUTURE_SLACK:
        return ""
    month = MONTHS.get(locale[:2], MONTHS["es"])[value.month - 1]
    if locale.startswith("en"):
        return f"{month} {value.day}, {value.year}, {value:%H:%M} UTC"
    return f"{value.day} {month} {value.year}, {value:%H:%M} UTC"
