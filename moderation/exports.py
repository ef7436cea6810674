"""Export flags or audit-log rows for a date range as CSV or JSON (format in docs/review.md).

People are given by id, rooms by slug. Text members wrote (message bodies, peer report
reasons) is included only when asked for. Every export is itself written to the audit log.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from moderation.audit import record_action
from moderation.models import Flag, ModerationAction
from moderation.review import in_date_range

FLAG_FIELDS = [
    "id",
    "created",
    "room",
    "session_id",
    "message_id",
    "alert_id",
    "kind",
    "tier",
    "categories",
    "norms",
    "rules",
    "spans",
    "status",
    "author_id",
    "acknowledged_at",
    "acknowledged_by_id",
    "escalated_at",
    "resolved_at",
    "resolved_by_id",
    "outcome",
    "note",
]
FLAG_TEXT_FIELDS = ["report_reason", "message_text"]
ACTION_FIELDS = [
    "id",
    "created",
    "action",
    "actor_id",
    "room",
    "session_id",
    "target_id",
    "message_id",
    "flag_id",
    "reason",
    "until",
    "details",
]
ACTION_TEXT_FIELDS = ["message_text"]
# Free text that a spreadsheet could take for a formula (CSV injection).
FREE_TEXT = {"note", "outcome", "reason", "report_reason", "message_text"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRequest:
    dataset: str  # "flags" or "actions"
    format: str  # "csv" or "json"
    date_from: date
    date_to: date
    include_text: bool

    def fields(self) -> list[str]:
        if self.dataset == "flags":
            return FLAG_FIELDS + (FLAG_TEXT_FIELDS if self.include_text else [])
        return ACTION_FIELDS + (ACTION_TEXT_FIELDS if self.include_text else [])

    def filename(self) -> str:
        return (
            f"peerchat-{self.dataset}-{self.date_from:%Y-%m-%d}-{self.date_to:%Y-%m-%d}"
            f".{self.format}"
        )

    def parameters(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "format": self.format,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "include_text": self.include_text,
        }


def _flags(request: ExportRequest) -> QuerySet[Flag]:
    rows = Flag.objects.filter(in_date_range("created", request.date_from, request.date_to))
    rows = rows.select_related("room")
    if request.include_text:
        rows = rows.select_related("message")
    return rows.order_by("created", "pk")


def _actions(request: ExportRequest) -> QuerySet[ModerationAction]:
    rows = ModerationAction.objects.filter(
        in_date_range("created", request.date_from, request.date_to)
    ).select_related("room")
    if request.include_text:
        rows = rows.select_related("message")
    return rows.order_by("created", "pk")


def _flag_row(flag: Flag, include_text: bool) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(flag, name) for name in FLAG_FIELDS}
    row["room"] = flag.room.slug
    if include_text:
        row["report_reason"] = flag.report_reason
        row["message_text"] = flag.message.body if flag.message else None
    return row


def _action_row(action: ModerationAction, include_text: bool) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(action, name) for name in ACTION_FIELDS}
    row["room"] = action.room.slug if action.room else None
    if include_text:
        row["message_text"] = action.message.body if action.message else None
    return row


def export_rows(request: ExportRequest) -> Iterator[dict[str, Any]]:
    """Yield the rows of the export, oldest first."""
    if request.dataset == "flags":
        for flag in _flags(request).iterator(chunk_size=1000):
            yield _flag_row(flag, request.include_text)
    else:
        for action in _actions(request).iterator(chunk_size=1000):
            yield _action_row(action, request.include_text)


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and name != "spans":
        return ";".join(str(item) for item in value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(value)
    if name in FREE_TEXT and text.startswith(FORMULA_START):
        return "'" + text
    return text


def render_csv(request: ExportRequest) -> str:
    """Return the export as CSV: a header line, then one line per row."""
    out = io.StringIO()
    fields = request.fields()
    writer = csv.writer(out)
    writer.writerow(fields)
    for row in export_rows(request):
        writer.writerow([_csv_cell(name, row[name]) for name in fields])
    return out.getvalue()


def render_json(request: ExportRequest) -> str:
    """Return the export as one JSON object: the parameters and the rows."""
    document = {
        **request.parameters(),
        "generated": timezone.now(),
        "fields": request.fields(),
        "rows": list(export_rows(request)),
    }
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1)


def do_export(request: ExportRequest, actor_id: int) -> str:
    """Build the export and write its parameters (never its data) to the audit log."""
    with transaction.atomic():
        content = render_csv(request) if request.format == "csv" else render_json(request)
        record_action("export", actor_id=actor_id, details=request.parameters())
    return content
