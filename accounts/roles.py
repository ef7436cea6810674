"""Site-wide roles as groups. Moderators are appointed per room through Membership."""

from django.contrib.auth.models import Group, Permission

SUPERVISOR_GROUP = "supervisor"
MODERATOR_GROUP = "moderator"
REVIEW_PERMISSION = "accounts.review_sessions"


def supervisor_group() -> Group:
    """Return the supervisor group with its permission (made if missing)."""
    group, _ = Group.objects.get_or_create(name=SUPERVISOR_GROUP)
    app_label, codename = REVIEW_PERMISSION.split(".")
    group.permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    return group


def moderator_group() -> Group:
    """Return the group of people trained to moderate (made if missing)."""
    return Group.objects.get_or_create(name=MODERATOR_GROUP)[0]
