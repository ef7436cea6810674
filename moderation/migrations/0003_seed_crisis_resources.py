"""Seed the crisis lines from moderation/data/crisis_resources.json (editable in the admin)."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "crisis_resources.json"


def seed(apps, schema_editor):
    CrisisResource = apps.get_model("moderation", "CrisisResource")
    for row in json.loads(DATA.read_text("utf-8"))["resources"]:
        CrisisResource.objects.get_or_create(
            country=row["country"], phone=row["phone"], defaults=row
        )


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_crisisresource_flag_moderationaction_and_more")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
