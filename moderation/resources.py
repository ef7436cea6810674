"""Crisis lines for a writer: their country and language first, 112 first when imminent."""

from __future__ import annotations

import json
from pathlib import Path

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chat.protocol import Resource
from moderation.models import CrisisResource

SEED_FILE = Path(__file__).resolve().parent / "data" / "crisis_resources.json"

SUPPORT_TEXT = {
    "imminent": _(
        "You matter, and you do not have to face this alone. If you are in danger "
        "now, call 112. A moderator has been alerted and is here with you."
    ),
    "high": _(
        "It sounds like things are really hard right now. You are not alone: these "
        "lines are free, confidential and open to talk. A moderator has been told."
    ),
    "concern": _(
        "Thank you for sharing this. If you want to talk to someone now, these "
        "lines are there for you."
    ),
}


def load_seed_resources() -> int:
    """Load the seeded crisis lines if the table is empty (fresh test databases)."""
    if CrisisResource.objects.exists():
        return 0
    rows = json.loads(SEED_FILE.read_text("utf-8"))["resources"]
    CrisisResource.objects.bulk_create(CrisisResource(**row) for row in rows)
    return len(rows)


def crisis_resources(country: str, language: str, tier: str) -> list[Resource]:
    """Return the lines to show: the country's own, then those valid everywhere."""
    country = (country or "").upper()
    rows = list(
        CrisisResource.objects.filter(active=True)
        .filter(Q(country="") | Q(country=country))
        .filter(Q(language="") | Q(language=language))
    )

    def order(row: CrisisResource) -> tuple[int, int, int]:
        # 112 leads when someone may be in danger now; otherwise it follows the lines
        # that are there to talk.
        if row.kind == CrisisResource.Kind.EMERGENCY:
            rank = 0 if tier == "imminent" else 2
        else:
            rank = 1
        return (rank, 0 if row.country else 1, row.priority)

    rows.sort(key=order)
    return [
        Resource(
            name=row.name,
            phone=row.phone or None,
            url=row.url or None,
            hours=row.hours or None,
            kind=row.kind,
        )
        for row in rows
    ]
