"""Statistics on a known set of flags, actions and messages, to the exact number."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from chat.models import Message
from moderation.charts import bar_chart
from moderation.models import Flag
from moderation.stats import (
    RuleRate,
    ack_times,
    false_alarm_rates,
    held_outcomes,
    percentile,
    weekly_flags,
)
from tests.review.review_helpers import make_action, make_flag, make_message, make_session

pytestmark = pytest.mark.django_db

START, END = date(2026, 1, 5), date(2026, 1, 18)  # two ISO weeks, Monday to Sunday


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def known(room, peer):
    session = make_session(room, opened_at=at(5, 8))
    resolved, dismissed = Flag.Status.RESOLVED, Flag.Status.DISMISSED

    def flag(day, tier, wait, status, rules, **fields):
        created = at(day)
        acknowledged = created + timedelta(seconds=wait) if wait is not None else None
        return make_flag(
            session=session,
            tier=tier,
            status=status,
            rules=rules,
            created=created,
            acknowledged_at=acknowledged,
            **fields,
        )

    f1 = flag(5, "concern", 10, resolved, ["r.a"], categories=["distress"])
    flag(6, "high", 20, dismissed, ["r.a", "r.b"], categories=["suicide"])
    flag(7, "high", 30, resolved, ["r.a", "r.c"], categories=["suicide", "self_harm"])
    flag(12, "imminent", 40, dismissed, ["r.b"], categories=["suicide"])
    flag(13, "high", 100, resolved, ["r.a"], kind=Flag.Kind.NORM, norms=["link"])
    # Grouped under f1: its wait is the alert's, not counted again; its rules count.
    flag(5, "concern", 1, resolved, ["r.c"], alert=f1, categories=["distress"])
    # Open: no acknowledgement, no verdict yet.
    flag(14, "concern", None, Flag.Status.OPEN, ["r.a"], kind=Flag.Kind.REPORT)
    # Outside the range.
    flag(19, "high", 1000, dismissed, ["r.b"], categories=["suicide"])
    flag(4, "high", 1000, dismissed, ["r.b"], categories=["suicide"])

    for day in (6, 6, 7):
        make_action("auto.hold", created=at(day))
    make_action("auto.hold", created=at(20))
    make_action("message.release", created=at(7))
    make_action("message.hide", created=at(8), details={"was": "held"})
    make_action("message.hide", created=at(8), details={"was": "visible"})
    for status, count in (("visible", 2), ("held", 1), ("hidden", 2)):
        for _ in range(count):
            make_message(session, peer, "text", status=status, created=at(9))
    make_message(session, peer, "later", status=Message.Status.HELD, created=at(25))
    return session


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 0.5, None),
        ([7], 0.9, 7),
        ([1, 2, 3, 4], 0.5, 2.5),
        ([3, 1, 2], 0.5, 2),
        (list(range(1, 11)), 0.9, 9.1),
        ([10, 20, 30, 40, 100], 0.9, 76),
    ],
)
def test_percentile_interpolates_between_closest_ranks(values, q, expected):
    assert percentile(values, q) == (None if expected is None else pytest.approx(expected))


def test_time_to_acknowledge_counts_alerts_in_range(known):
    rows = {row.label: (row.count, row.median, row.p90) for row in ack_times(START, END)}
    assert rows["all"] == (5, 30, pytest.approx(76))
    assert rows["high"] == (3, 30, pytest.approx(86))
    assert rows["imminent"] == (1, 40, 40)
    assert rows["concern"] == (1, 10, 10)
    assert "none" not in rows


def test_false_alarm_rate_per_rule(known):
    assert false_alarm_rates(START, END) == [
        RuleRate("r.b", closed=2, dismissed=2),
        RuleRate("r.a", closed=4, dismissed=1),
        RuleRate("r.c", closed=2, dismissed=0),
    ]
    assert [rate.percent for rate in false_alarm_rates(START, END)] == [100.0, 25.0, 0.0]


def test_flags_per_week_by_tier_and_category(known):
    weekly = weekly_flags(START, END)
    assert weekly.weeks == [date(2026, 1, 5), date(2026, 1, 12)]
    assert weekly.tier_rows() == [
        (date(2026, 1, 5), [0, 2, 2, 0]),  # none, concern, high, imminent
        (date(2026, 1, 12), [0, 1, 1, 1]),
    ]
    assert weekly.category_totals() == [
        ("distress", 2),
        ("link", 1),
        ("self_harm", 1),
        ("suicide", 3),
        ("peer report", 1),
    ]
    assert weekly.category_rows()[1] == (date(2026, 1, 12), [0, 1, 0, 1, 1])


def test_held_messages_released_and_hidden(known):
    held = held_outcomes(START, END)
    assert (held.held, held.released, held.hidden) == (3, 1, 1)
    assert held.statuses == {"visible": 2, "held": 1, "hidden": 2}


def test_statistics_page_shows_the_numbers_and_charts(supervisor_client, known):
    page = supervisor_client.get(
        reverse("review:stats"), {"date_from": "2026-01-05", "date_to": "2026-01-18"}
    ).content.decode()
    all_tiers = page[page.index('class="ack-all"') :].split("</tr>")[0]
    assert "<td>5</td><td>30 s</td><td>1 min 16 s</td>" in all_tiers
    assert "<code>r.a</code></th><td>4</td><td>1</td><td>25.0 %</td>" in page
    assert page.count('<svg class="chart" role="img"') == 4
    assert '<title id="chart-tiers-title">Flags per week by tier</title>' in page
    # Statuses read as words, not as codes.
    assert '<th scope="row">messages now held for a moderator</th><td>1</td>' in page


def test_statistics_page_defaults_to_the_last_twelve_weeks(supervisor_client, known):
    page = supervisor_client.get(reverse("review:stats")).content.decode()
    tier_table = page[page.index("Flags per week by tier (") :].split("</table>")[0]
    assert tier_table.count('<th scope="row">') == 12
    assert "2026-01-05" not in page


def test_bar_chart_escapes_labels_and_scales_bars():
    svg = str(
        bar_chart("T<1>", [("<b>", [2, 2]), ("b", [1, 0])], series=["x&y", "z"], chart_id="c")
    )
    assert "&lt;b&gt;" in svg and "<b>" not in svg and "x&amp;y" in svg and "T&lt;1&gt;" in svg
    assert 'width="180.0"' in svg and 'width="90.0"' in svg  # half of the 360 px bar each
