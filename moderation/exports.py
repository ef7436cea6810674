"""Export flags or audit-log rows for a date range as CSV or JSON (format in docs/review.md).

People are given by id, rooms by slug. Text members wrote (message bodies, peer report
reasons) is included only when asked for. Every export is itself written to the audit log.
The file is streamed, ``BATCH`` rows at a time, so a year of flags never sits in memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
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
BATCH = 1000
"""Rows read (one query) and written per piece of the streamed file."""


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


def export_batches(request: ExportRequest) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of the export, oldest first, ``BATCH`` at a time: each batch is one
    query for the rows after the last one sent (by creation time, then id)."""
    flags = request.dataset == "flags"
    rows: QuerySet[Any] = _flags(request) if flags else _actions(request)
    to_row = _flag_row if flags else _action_row
    after: Q | None = None
    while True:
        batch = list((rows.filter(after) if after is not None else rows)[:BATCH])
        if not batch:
            return
        yield [to_row(item, request.include_text) for item in batch]
        last = batch[-1]
        after = Q(created__gt=last.created) | Q(created=last.created, pk__gt=last.pk)


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


def csv_pieces(request: ExportRequest) -> Iterator[str]:
    """Yield the export as CSV: a header line, then the lines of each batch."""
    fields = request.fields()
    yield _csv_lines([fields])
    for batch in export_batches(request):
        yield _csv_lines([[_csv_cell(name, row[name]) for name in fields] for row in batch])


def _csv_lines(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def json_pieces(request: ExportRequest) -> Iterator[str]:
    """Yield the export as one JSON object: the parameters, the fields, then the rows."""
    head = {**request.parameters(), "generated": timezone.now(), "fields": request.fields()}
    opening = json.dumps(head, cls=DjangoJSONEncoder, ensure_ascii=False)
    yield opening[:-1] + ', "rows": ['
    separator = "\n"
    for batch in export_batches(request):
        for row in batch:
            yield separator + json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False)
            separator = ",\n"
    yield "\n]}\n"


def start_export(request: ExportRequest, actor_id: int) -> AsyncIterator[str]:
    """Write the export's parameters (never its data) to the audit log, then return the
    file as an async iterator of pieces for a streaming response."""
    record_action("export", actor_id=actor_id, details=request.parameters())
    pieces = csv_pieces(request) if request.format == "csv" else json_pieces(request)
    return _each_in_a_thread(pieces)


async def _each_in_a_thread(pieces: Iterator[str]) -> AsyncIterator[str]:
    # Each piece is read from the database on the request's database thread; the event
    # loop only sends it on.
    take = sync_to_async(next)
    while (piece := await take(pieces, None)) is not None:
        yield piece
