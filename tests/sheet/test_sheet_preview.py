"""The Orders tab's preview column: a signed link to each line's preview, when served."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import openpyxl
from pydantic import SecretStr
from sqlalchemy import update

from podops.db import Database
from podops.models import LineItem
from podops.routing import ShopPolicy
from podops.settings import RenderConfig, Settings, SheetConfig
from render.links import verify
from sync.sheets.mirror import SheetMirror
from sync.sheets.workbook import Workbook
from tests import factories
from tests.sheet.conftest import SheetEnv

SECRET = "a-long-enough-link-secret"


def _with_preview(env: SheetEnv, policy: ShopPolicy) -> str:
    number = factories.received_order(env.db, policy)
    with env.db.unit_of_work() as session:
        session.execute(
            update(LineItem)
            .where(LineItem.position == 1)
            .values(preview_file=str(Path("print-files") / f"{number}-01-r1-preview.jpg"))
        )
    return number


def test_a_line_with_a_preview_links_to_it_and_the_link_stays_the_same(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = _with_preview(env, policy)
    env.settings = Settings(
        data_dir=env.settings.data_dir,
        sheet=SheetConfig(backend="xlsx"),
        render=RenderConfig(public_base_url="https://shop.example", link_secret=SecretStr(SECRET)),
    )
    env.cycle()

    link = env.row_of(f"{number}-01")["preview"]
    parts = urlsplit(link)
    name = f"{number}-01-r1-preview.jpg"
    assert link.startswith(f"https://shop.example/files/{name}?")
    query = parse_qs(parts.query)
    assert verify(name, query["exp"][0], query["sig"][0], SECRET.encode())
    assert env.row_of(f"{number}-02")["preview"] == ""
    assert env.cycle().requests.writes == 0


def test_without_a_link_secret_the_preview_column_stays_empty(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    factories.received_order(db, policy)
    with db.unit_of_work() as session:
        session.execute(update(LineItem).values(preview_file="print-files/x-preview.jpg"))
    path = tmp_path / "orders.xlsx"
    settings = Settings(data_dir=tmp_path, sheet=SheetConfig(backend="xlsx"))
    SheetMirror(db, Workbook(path), settings).run_cycle()

    rows = list(openpyxl.load_workbook(path)["Orders"].iter_rows(values_only=True))
    column = rows[0].index("preview")
    assert len(rows) == 3 and all(row[column] in (None, "") for row in rows[1:])
