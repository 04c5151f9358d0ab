"""The manual provider: staff make the order themselves, so the Slack notice of
its submission carries what they need (packing slip and print-file links)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from podops import services
from podops.runtime.root import Runtime
from podops.settings import DatabaseConfig, ProviderConfig, RenderConfig, Settings
from sync.notify_job import drain, scan_alerts
from tests.bot.conftest import slack_settings
from tests.factories import STAFF, received_order
from tests.fakes.slack import FakeSlack


@pytest.fixture
def shop(db_url: str, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path,
        database=DatabaseConfig(url=db_url),
        slack=slack_settings(db_url, fake_slack).slack,
        providers={"manual": ProviderConfig(kind="manual")},
        render=RenderConfig(
            public_base_url="https://podops.example",
            link_secret=SecretStr("manual-notice-link-secret-0123456789"),
        ),
    )
    rt = Runtime(settings)
    yield rt
    rt.close()


def test_the_submission_notice_links_the_packing_slip_and_print_files(
    shop: Runtime, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(shop.db, policy)
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        for item in order.items:
            item.print_file = f"/srv/print-files/{number}-{item.position:02d}-r001.png"
            item.print_file_revision, item.print_file_current = 1, True
        submit_at = order.submit_at
    scan_alerts(shop, submit_at)
    drain(shop)
    shop.submission.submit_now(number, STAFF)
    drain(shop)
    [alert] = fake_slack.channel_messages()
    [reply] = fake_slack.thread_replies(f"C0ORDERS:{alert['ts']}")
    lines = reply["text"].splitlines()
    assert lines[0] == f"order {number} was sent to manual (manual-main-{number}). Its files:"
    assert lines[1].startswith("packing slip: https://podops.example/")
    assert lines[2].startswith(f"print file {number}-01: https://podops.example/")
    assert lines[-1].startswith(f"Once shipped, record the parcel: /order track {number}")
