"""The Archive tab stops growing at `sheet.archive_max_rows`: the newest rows replace the
oldest, so years of history never push a Google spreadsheet toward its cell limit."""

from __future__ import annotations

from datetime import timedelta

from podops import services
from podops.routing import ShopPolicy
from podops.sheet.plan import archive_blocks
from podops.sheet.rows import ARCHIVE
from tests import factories
from tests.sheet.conftest import SheetEnv


def _completed(env: SheetEnv, policy: ShopPolicy) -> str:
    number = factories.shipped_order(env.db, policy)
    with env.db.unit_of_work() as session:
        services.complete(session, number, factories.SYSTEM)
    return number


def _archived_lines(env: SheetEnv) -> list[str]:
    return [row[2] for row in env.hands.values(ARCHIVE)[1:] if any(row)]


def test_a_full_archive_replaces_its_oldest_rows_and_never_grows(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    env.settings.sheet.archive_max_rows = 3
    first, second = _completed(env, policy), _completed(env, policy)
    env.cycle()

    report = env.cycle(env.now + timedelta(days=31))

    assert report.archived == 4  # four lines left Orders; the oldest did not fit
    assert sorted(_archived_lines(env)) == sorted([f"{first}-02", f"{second}-01", f"{second}-02"])
    third = _completed(env, policy)
    env.cycle()  # shown in Orders, finished
    env.cycle(env.now + timedelta(days=31))
    assert env.hands.values(ARCHIVE)[0][:3] == ["key", "order", "line"]
    assert len(env.hands.values(ARCHIVE)) == 4  # the header and three rows, no more
    assert sorted(_archived_lines(env)) == sorted([f"{third}-01", f"{third}-02", f"{second}-02"])


def test_the_first_mirror_backfills_only_as_many_old_lines_as_the_archive_holds(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    env.settings.sheet.backfill_archive = True
    env.settings.sheet.archive_max_rows = 2
    old = [_completed(env, policy) for _ in range(3)]
    with env.db.unit_of_work() as session:
        for days, number in zip((90, 80, 70), old, strict=True):
            order = services.get_order(session, number)
            order.completed_at = order.updated_at = env.now - timedelta(days=days)

    env.cycle()

    assert sorted(_archived_lines(env)) == [f"{old[2]}-01", f"{old[2]}-02"]


def test_archive_rows_go_below_the_last_until_the_cap_then_round_from_the_top() -> None:
    assert archive_blocks(0, None, 3, cap=5) == [(2, 3)]
    assert archive_blocks(4, None, 3, cap=5) == [(6, 1), (2, 2)]
    assert archive_blocks(5, 1, 2, cap=5) == [(3, 2)]
    assert archive_blocks(2, None, 12, cap=5) == [(4, 3), (2, 2)]  # only the newest 5 fit
