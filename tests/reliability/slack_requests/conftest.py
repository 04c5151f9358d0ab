"""The Slack area's fixtures (fake Slack Web API, the real web server with the
Slack routes, a signing sender), reused for the abuse tests."""

from tests.bot.conftest import (  # noqa: F401  (fixtures)
    allowed_users,
    fake_slack,
    runtime,
    server,
    slack,
)
