"""A busy shop's render folder (or bucket) holds tens of thousands of print files: a
render's cost must not grow with them. The revision number comes from the database,
so a render lists nothing: with 2,000 unrelated files present it reads no more
folder entries or bucket keys than with none, and the revisions still go 1, 2, 3.
Rendering leaves no lock file behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import obstore
import pytest

from podops.db import Database
from podops.routing import ShopPolicy
from podops.runtime.root import Runtime
from tests.factories import STAFF
from tests.fakes.s3_server import S3Server
from tests.storage.conftest import s3_settings, shop_runtime
from tests.storage.test_storage_runtime import _tee_order

UNRELATED = 2000


class Listed:
    """Counts every folder entry (os.scandir, os.listdir) and bucket key (obstore.list)
    read while it is installed: a spy that passes everything through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entries = 0
        scandir, listdir, listing = os.scandir, os.listdir, obstore.list

        def counting_scandir(*args: Any, **kwargs: Any) -> Any:
            return _CountingScandir(scandir(*args, **kwargs), self)

        def counting_listdir(*args: Any, **kwargs: Any) -> list[Any]:
            names = listdir(*args, **kwargs)
            self.entries += len(names)
            return names

        def counting_list(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for chunk in listing(*args, **kwargs):
                self.entries += len(chunk)
                yield chunk

        monkeypatch.setattr(os, "scandir", counting_scandir)
        monkeypatch.setattr(os, "listdir", counting_listdir)
        monkeypatch.setattr(obstore, "list", counting_list)


class _CountingScandir:
    def __init__(self, inner: Any, listed: Listed) -> None:
        self.inner, self.listed = inner, listed

    def __iter__(self) -> _CountingScandir:
        return self

    def __next__(self) -> Any:
        entry = next(self.inner)
        self.listed.entries += 1
        return entry

    def __enter__(self) -> _CountingScandir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def close(self) -> None:
        self.inner.close()


def _fill(runtime: Runtime, count: int) -> None:
    """`count` print files of other orders, named as renders name them."""
    names = [f"{9000 + n}-1-r001-{n:012x}.png" for n in range(count)]
    names += [f"1-{n}-r001-{n:012x}.png" for n in range(count // 10)]  # sorting first

    def put(name: str) -> str:
        return runtime.storage.put(name, b"x", "image/png")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, names))


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_render_costs_the_same_with_thousands_of_files_present(
    db: Database,
    policy: ShopPolicy,
    tmp_path: Path,
    s3: S3Server,
    photo_url: str,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    storage = None if kind == "local" else s3_settings(s3, prefix=f"growth-{tmp_path.name}")
    runtime = shop_runtime(db, tmp_path / "shop", storage)
    number = _tee_order(db, policy, photo_url, due=False)
    [first] = runtime.print_files.render_order(number, STAFF)  # templates loaded, folder made

    listed = Listed(monkeypatch)
    [quiet] = runtime.print_files.render_order(number, STAFF)
    with_none = listed.entries

    monkeypatch.undo()
    _fill(runtime, UNRELATED)
    listed = Listed(monkeypatch)
    [busy] = runtime.print_files.render_order(number, STAFF)
    [busier] = runtime.print_files.render_order(number, STAFF)

    assert listed.entries <= 2 * with_none + 10  # not 2,000 a render
    assert [o.message for o in (first, quiet, busy, busier)] == [
        "revision 1",
        "revision 2",
        "revision 3",
        "revision 4",
    ]
    assert len({o.location for o in (first, quiet, busy, busier)}) == 4
    folder = runtime.settings.resolve(runtime.settings.render.output_dir)
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []
