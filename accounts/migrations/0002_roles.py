"""Create the role groups: supervisors may review every room; moderators are appointed per
room through their membership, the group only marks who is trained to be one."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; make this app's now.
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    review = Permission.objects.get(content_type__app_label="accounts", codename="review_sessions")
    supervisor, _ = Group.objects.get_or_create(name="supervisor")
    supervisor.permissions.add(review)
    Group.objects.get_or_create(name="moderator")


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["supervisor", "moderator"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
