"""The on-call page: supervisors only, a shell the on-call socket fills in."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_supervisor_gets_the_page_with_its_socket_and_script(supervisor_client: Client) -> None:
    response = supervisor_client.get(reverse("review:oncall"))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    html = response.content.decode()
    assert 'data-ws="/ws/oncall/"' in html
    assert 'src="/static/peerchat/oncall.js"' in html
    assert f'<a href="{reverse("review:oncall")}" aria-current="page">On call</a>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", html, re.I)


@pytest.mark.parametrize("who", ["peer", "moderator"])
def test_peer_and_moderator_are_refused(client: Client, who: str, request) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("review:oncall")).status_code == 403


def test_anonymous_user_is_sent_to_the_login_page(client: Client) -> None:
    response = client.get(reverse("review:oncall"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('review:oncall')}"
