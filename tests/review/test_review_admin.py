"""The moderation models in the Django admin; the audit log there is read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from moderation.models import CrisisResource, Flag, ModerationAction, SupervisionNote
from tests.factories import make_user
from tests.review.review_helpers import make_action, make_flag, make_message, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(db):
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", [Flag, ModerationAction, CrisisResource, SupervisionNote])
def test_model_is_registered_and_lists(admin_client_, model, room, peer):
    session = make_session(room)
    flag = make_flag(make_message(session, peer, "x"))
    make_action("flag.ack", flag=flag, session=session)
    SupervisionNote.objects.create(session=session, text="n")
    assert admin.site.is_registered(model)
    meta = model._meta
    response = admin_client_.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert response.status_code == 200


def test_audit_log_cannot_be_added_changed_or_deleted_in_admin(admin_client_):
    row = make_action("member.mute", reason="flooding")
    assert admin_client_.get(reverse("admin:moderation_moderationaction_add")).status_code == 403
    change = admin_client_.post(
        reverse("admin:moderation_moderationaction_change", args=[row.pk]), {"reason": "edited"}
    )
    assert change.status_code == 403
    delete = admin_client_.post(
        reverse("admin:moderation_moderationaction_delete", args=[row.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    row.refresh_from_db()
    assert row.reason == "flooding"
    view = admin_client_.get(reverse("admin:moderation_moderationaction_change", args=[row.pk]))
    assert view.status_code == 200 and "flooding" in view.content.decode()


def test_flags_are_shown_not_changed_in_admin(admin_client_, room, peer):
    flag = make_flag(make_message(make_session(room), peer, "x"))
    assert admin_client_.get(reverse("admin:moderation_flag_add")).status_code == 403
    change_url = reverse("admin:moderation_flag_change", args=[flag.pk])
    assert admin_client_.post(change_url, {"status": "resolved"}).status_code == 403
    assert admin_client_.get(change_url).status_code == 200
    flag.refresh_from_db()
    assert flag.status == "open"
