from django.contrib import admin

from moderation.models import Sanction


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    list_display = ("kind", "room", "user", "until", "lifted_at", "created_by", "created")
    list_filter = ("kind", "room")
    search_fields = ("user__display_name", "reason")
    raw_id_fields = ("user", "created_by", "room")
