"""App Home: a live dashboard published per user (on opening, and refreshed
by a job for the people who opened it recently)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.blocks import home_view
from podops import reports
from podops.jobs import JobSpec
from podops.models import SyncState, utcnow

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import SlackRuntime

log = logging.getLogger(__name__)
STATE_KEY = "slack.home_users"
MAX_USERS = 50


def dashboard_view(runtime: SlackRuntime) -> dict[str, object]:
    window = timedelta(minutes=max(runtime.settings.slack.alert_before_minutes, 60))
    with runtime.db.unit_of_work() as session:
        board = reports.dashboard(session, due_within=window)
    return home_view(board)


def remember_user(runtime: SlackRuntime, user_id: str) -> None:
    with runtime.db.unit_of_work() as session:
        state = session.get(SyncState, STATE_KEY)
        if state is None:
            state = SyncState(key=STATE_KEY, value={"users": []})
            session.add(state)
        users = [u for u in state.value.get("users", []) if u != user_id]
        state.value = {"users": [user_id, *users][:MAX_USERS]}


def publish_home(runtime: SlackRuntime, client: WebClient, user_id: str) -> bool:
    from slack_sdk.errors import SlackApiError  # Slack's only: a shop without it never loads it

    try:
        client.views_publish(user_id=user_id, view=dashboard_view(runtime))
    except SlackApiError as exc:
        log.warning("views.publish for %s failed: %s", user_id, exc.response.get("error"))
        return False
    return True


def refresh_homes(runtime: SlackRuntime) -> int:
    """Republish the dashboard for everyone who opened App Home lately."""
    with runtime.db.unit_of_work() as session:
        state = session.get(SyncState, STATE_KEY)
        users = list(state.value.get("users", [])) if state else []
        fresh = state is not None and utcnow() - state.updated_at < timedelta(days=7)
    if not fresh:
        return 0
    from slack_sdk.errors import SlackApiError

    view = dashboard_view(runtime)
    published = 0
    for user_id in users:
        try:
            runtime.slack_client.views_publish(user_id=user_id, view=view)
            published += 1
        except SlackApiError as exc:
            log.warning("views.publish for %s failed: %s", user_id, exc.response.get("error"))
    return published


def jobs(runtime: SlackRuntime) -> list[JobSpec]:
    """Keep the dashboards of recent App Home visitors fresh (Slack only)."""
    if not runtime.settings.slack.enabled:
        return []
    return [
        JobSpec("slack.home_refresh", lambda: refresh_homes(runtime), "interval", {"minutes": 5})
    ]
