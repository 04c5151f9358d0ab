"""`podops label` through `podops.cli.main` against the fake EasyPost (the official
client): buy (the rate, price and tracking said, the label's link), print (the label
with the packing slip, and today's batch, read back through the storage), void (the
parcel off the order), and `podops orders show` listing the label beside its parcel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from podops import services
from podops.cli.main import main
from podops.db import Database
from podops.routing import ShopPolicy
from tests import factories
from tests.fakes.easypost import TEST_KEY, Failure
from tests.fakes.easypost_labels import FakeEasyPostLabels

CONFIG = """
timezone = "UTC"
data_dir = "var"

[stores.main]
platform = "sandbox"
countdown_hours = 24
default_provider = "manual"

[providers.manual]
kind = "manual"

[shipping_origin]
name = "Example Prints"
street1 = "1 Print Way"
city = "Springfield"
state = "IL"
zip = "62701"
country = "US"
phone = "+1 217 555 0100"

[labels.parcels.tee-front]
weight_oz = 6
length_in = 10
width_in = 8
height_in = 1

[labels.parcels.mug-11oz]
weight_oz = 16
length_in = 6
width_in = 6
height_in = 6

[easypost]
base_url = "{api_base}"
timeout_s = 2

[render]
output_dir = "print-files"
public_base_url = "https://ops.example"
"""


@pytest.fixture
def easypost() -> Iterator[FakeEasyPostLabels]:
    fake = FakeEasyPostLabels().start()
    yield fake
    fake.stop()


@pytest.fixture
def shop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, easypost: FakeEasyPostLabels
) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    monkeypatch.setenv("PODOPS_EASYPOST__API_KEY", TEST_KEY)
    monkeypatch.setenv("PODOPS_RENDER__LINK_SECRET", "cli-labels-link-secret-0123456789")
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    (tmp_path / "podops.toml").write_text(CONFIG.format(api_base=easypost.api_base))
    return tmp_path


def submitted(db_url: str, policy: ShopPolicy) -> str:
    db = Database(db_url)
    try:
        return factories.submitted_order(db, policy)
    finally:
        db.dispose()


def said(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_buy_print_show_and_void_a_label_from_the_terminal(
    shop: Path,
    db_url: str,
    policy: ShopPolicy,
    easypost: FakeEasyPostLabels,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = submitted(db_url, policy)

    code, out = said(capsys, "label", number, "--line", "1", "--qty", "1", "--rate", "fastest")
    assert code == 0, out
    assert f"Order main:{number}: label bought, UPS NextDayAir for " in " ".join(out.split())
    tracking = _tracking(db_url, number)
    assert tracking in out and "(partially shipped)" in out
    assert f"Label: https://ops.example/files/label-main-{number}-L" in out
    assert easypost.labels_bought == 1

    code, out = said(capsys, "label", "print", number)
    assert code == 0, out
    sheet = Path("".join(out.split("Label and packing slip: ", 1)[1].split()))  # unwrapped
    assert sheet.read_bytes().startswith(b"%PDF")
    assert sheet.parent == shop / "var/print-files/label-sheets"
    code, out = said(capsys, "label", "print", "--today")
    assert code == 0 and "1 label(s) in " in out

    code, out = said(capsys, "orders", "show", number)
    assert code == 0, out
    assert "label: UPS NextDayAir, " in out and "https://ops.example/files/label-" in out
    code, out = said(capsys, "orders", "show", number, "--json")
    parcel = json.loads(out)["shipments"][0]
    assert parcel["tracking_number"] == tracking
    assert (parcel["label"]["carrier"], parcel["label"]["service"]) == ("UPS", "NextDayAir")
    assert parcel["label"]["price"].endswith(" USD")
    assert parcel["label"]["link"].startswith("https://ops.example/files/label-main-")

    code, out = said(capsys, "label", "void", number)
    assert code == 0, out
    assert f"label {tracking} voided (refund submitted)" in " ".join(out.split())
    assert _tracking(db_url, number) == ""


def test_refusals_from_the_terminal_say_why_and_buy_nothing(
    shop: Path,
    db_url: str,
    policy: ShopPolicy,
    easypost: FakeEasyPostLabels,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = submitted(db_url, policy)
    easypost.fail_next(Failure(402, "PAYMENT.REQUIRED", "Insufficient funds.", path="/buy"))
    code, out = said(capsys, "label", number)
    assert code != 0 and "refused the payment" in out
    code, out = said(capsys, "label", number, "--qty", "1")
    assert code != 0 and "--qty needs --line" in out
    code, out = said(capsys, "label", "print", number)
    assert code != 0 and "has no bought label" in out
    assert easypost.labels_bought == 0
    assert _tracking(db_url, number) == ""


def _tracking(db_url: str, number: str) -> str:
    db = Database(db_url)
    try:
        with db.reading() as session:
            order = services.get_order(session, number)
            return ";".join(s.tracking_number for s in order.shipments)
    finally:
        db.dispose()
