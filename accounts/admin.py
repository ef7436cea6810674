from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class PeerUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "language", "country", "is_staff", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("peerchat", {"fields": ("display_name", "language", "country", "blur_flagged")}),
    )
