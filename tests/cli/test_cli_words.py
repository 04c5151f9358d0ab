"""What `podops` says matches what it does: the exit codes README promises, replies
that name the status once, holds that take a second reason, help that tells
what each command needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops.cli.main import main
from tests.cli.conftest import seed

EVERY_ORDER_COMMAND = [
    ["orders", "show", "3010"],
    ["hold", "3010", "--reason", "address check"],
    ["release", "3010"],
    ["cancel", "3010", "--reason", "out of stock"],
    ["submit", "3010"],
    ["retry", "3010"],
    ["track", "3010", "UPS", "1Z999AA10123456784"],
    ["edit", "3010", "name=Ana"],
    ["render", "3010"],
]


@pytest.mark.parametrize("command", EVERY_ORDER_COMMAND, ids=lambda c: " ".join(c[:2]))
def test_an_order_number_that_names_no_order_exits_2(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    seed(db_url, "3001")
    assert main(command) == 2  # README: 2 for a mistyped order number
    assert capsys.readouterr().err.strip() == "error: no order 3010 (did you mean 3001?)"


def test_a_line_or_sku_the_order_does_not_have_exits_2(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(db_url, "3001")
    assert main(["render", "3001", "--line", "9"]) == 2
    assert "order 3001 has no line 9 (its lines: 1, 2)" in capsys.readouterr().err
    assert main(["edit", "3001", "--line", "9", "name=Ana"]) == 2
    assert "order 3001 has no line 9 (its lines: 1, 2)" in capsys.readouterr().err
    assert main(["track", "3001", "UPS", "1Z999AA10123456784", "--sku", "NOPE"]) == 2
    err = capsys.readouterr().err
    assert "order 3001 has no line with SKU NOPE (its SKUs: MUG-11OZ, TEE-BLK-M)" in err
    assert main(["release", "3001"]) == 1  # an order that exists and refuses: still 1
