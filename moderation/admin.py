from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from moderation.models import CrisisResource, Flag, ModerationAction, Sanction, SupervisionNote


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    list_display = ("kind", "room", "user", "until", "lifted_at", "created_by", "created")
    list_filter = ("kind", "room")
    search_fields = ("user__display_name", "reason")
    raw_id_fields = ("user", "created_by", "room")


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    """Flags to look up. Their state changes on the review pages or in the moderator
    console, which write the audit log; the admin would not, so it only shows them."""

    list_display = ("id", "kind", "tier", "status", "room", "session", "created", "escalated_at")
    list_filter = ("kind", "tier", "status", "room")
    search_fields = ("rules", "categories", "note")
    raw_id_fields = (
        "room",
        "session",
        "message",
        "author",
        "alert",
        "reporter",
        "acknowledged_by",
        "resolved_by",
    )
    date_hierarchy = "created"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    """The audit log, for reading only: rows are never added, changed or deleted here."""

    list_display = ("created", "action", "actor", "room", "session", "target", "flag")
    list_filter = ("action", "room")
    search_fields = ("action", "reason", "actor__display_name", "target__display_name")
    date_hierarchy = "created"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CrisisResource)
class CrisisResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "language", "kind", "phone", "hours", "priority", "active")
    list_filter = ("active", "kind", "country", "language")
    search_fields = ("name", "phone", "url")
    list_editable = ("priority", "active")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(SupervisionNote)
class SupervisionNoteAdmin(admin.ModelAdmin):
    list_display = ("id", "session", "author", "created")
    list_filter = ("session__room",)
    search_fields = ("text",)
    raw_id_fields = ("session", "author")
    date_hierarchy = "created"
