from django.contrib import admin

from chat.models import Membership, Message, Room, Session


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "language", "kind", "privacy", "locked", "slow_mode_seconds")
    list_filter = ("language", "kind", "privacy", "locked")
    search_fields = ("slug", "name")
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("pinned_message",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("room", "user", "role", "norms_version_accepted", "joined")
    list_filter = ("role", "room")
    search_fields = ("user__display_name", "room__slug")
    raw_id_fields = ("user", "room")


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("id", "room", "mode", "opened_at", "closed_at", "in_person_count")
    list_filter = ("mode", "room")
    raw_id_fields = ("opened_by", "closed_by")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "room", "seq", "author", "status", "created")
    list_filter = ("status", "room")
    raw_id_fields = ("author", "session", "room")
    readonly_fields = ("client_id", "seq", "created")
