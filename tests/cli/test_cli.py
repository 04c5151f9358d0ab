"""The `podops` command as a shop operator meets it: exit codes and one-line errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from podops import services
from podops.cli.main import main
from podops.db import Database
from tests.cli.conftest import seed as _seed
from tests.factories import STAFF, SYSTEM


def test_init_writes_a_commented_config_and_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PODOPS_DATABASE__URL", raising=False)
    assert main(["init"]) == 0
    config = (tmp_path / "podops.toml").read_text()
    assert "# podops configuration" in config
    assert (tmp_path / "var" / "podops.db").exists()
    assert main(["orders", "list"]) == 0
    assert "No orders match." in capsys.readouterr().out
    assert main(["init"]) == 0  # a second run keeps the file
    assert "keeping it" in capsys.readouterr().out


def test_list_and_show_an_order(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url, "2001", "2002")
    assert main(["orders", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(o["number"] for o in listed) == ["2001", "2002"]
    assert main(["hold", "#2001", "--reason", "address check"]) == 0
    assert "on hold" in capsys.readouterr().out
    assert main(["orders", "list", "--status", "on_hold", "--json"]) == 0
    assert [o["number"] for o in json.loads(capsys.readouterr().out)] == ["2001"]
    assert main(["orders", "show", "2001"]) == 0
    shown = capsys.readouterr().out
    assert "Timeline" in shown and "address check" in shown and "2001-01" in shown


def test_refusals_exit_1_with_one_line(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url, "3001")
    assert main(["release", "3001"]) == 1
    assert "it cannot be released" in capsys.readouterr().err
    assert main(["cancel", "3001", "--reason", "duplicate order"]) == 0
    assert main(["cancel", "3001", "--reason", "again"]) == 1
    assert "is cancelled; it can no longer be cancelled" in capsys.readouterr().err


def test_usage_errors_exit_2(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url, "3101")
    assert main(["hold"]) == 2
    assert main(["orders", "list", "--status", "bogus"]) == 2
    assert "unknown status 'bogus'" in capsys.readouterr().err
    assert main(["cancel", "3101"]) == 2
    err = capsys.readouterr().err
    assert "say why order 3101 is cancelled" in err and "--reason" in err
    for command in (["hold", "main:"], ["orders", "show", "#"], ["submit", "1" * 65]):
        assert main(command) == 2, command
        assert "is not an order number" in capsys.readouterr().err
    assert main(["summary", "--day", "yesterday"]) == 2
    assert main(["outbox", "retry"]) == 2
    assert main(["track", "3101", "UPS", "1Z999", "--qty", "2"]) == 2
    assert main(["release", "3101"]) == 1  # the business rules refuse: still exit 1


def test_messages_keep_the_order_number_as_typed(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url, "T82997")
    assert main(["hold", "T82997", "--reason", "address check"]) == 0
    assert "Order T82997 is on hold" in capsys.readouterr().out
    assert main(["cancel", "T82997", "--reason", "duplicate"]) == 0
    assert "Order T82997 is cancelled" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("postgres://shop:sekret@db.internal/podops", "write postgresql+psycopg://"),
        ("postgresql+psycopg2://shop:sekret@db.internal/podops", "not installed (psycopg2)"),
        ("postgresqll+psycopg://shop:sekret@db.internal/podops", "does not know"),
        ("db.internal/podops", "is not a database URL"),
    ],
)
def test_unusable_database_url_is_a_config_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    hint: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("podops.toml").write_text("")
    monkeypatch.setenv("PODOPS_DATABASE__URL", url)
    assert main(["orders", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: database.url") and hint in err
    assert "sekret" not in err and "Traceback" not in err


def test_every_command_masks_secrets_in_its_log(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "xoxb-1234-very-secret"
    monkeypatch.setenv("PODOPS_SLACK__BOT_TOKEN", token)
    assert main(["orders", "list"]) == 0
    logging.getLogger("providers.example").warning("Slack said no to %s", token)
    err = capsys.readouterr().err
    assert "Slack said no to [redacted]" in err and token not in err


def test_invalid_config_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("podops.toml").write_text('[stores.main]\ncountdown_hours = "soon"\n')
    assert main(["orders", "list"]) == 2
    err = capsys.readouterr().err
    assert "stores.main.countdown_hours" in err and "'soon'" in err
    assert "Traceback" not in err


def test_secret_in_config_file_is_refused_without_echoing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("podops.toml").write_text('[stores.main]\nconsumer_secret = "cs_live_123"\n')
    assert main(["orders", "list"]) == 2
    err = capsys.readouterr().err
    assert "PODOPS_STORES__MAIN__CONSUMER_SECRET" in err
    assert "cs_live_123" not in err


def test_unreadable_toml_and_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("podops.toml").write_text("[stores.main\n")
    assert main(["orders", "list"]) == 2
    assert "is not valid TOML" in capsys.readouterr().err
    assert main(["--config", "elsewhere.toml", "orders", "list"]) == 2
    assert "run `podops init`" in capsys.readouterr().err


def test_unreachable_database_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("podops.toml").write_text("")
    monkeypatch.setenv(
        "PODOPS_DATABASE__URL", "postgresql+psycopg://nobody:sekret@127.0.0.1:9/podops"
    )
    assert main(["orders", "list"]) == 3
    err = capsys.readouterr().err
    assert "cannot reach the database" in err
    assert "sekret" not in err and "Traceback" not in err


def test_show_tells_the_hold_and_the_design_apart(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Held by a person, then its design refused: both facts show, neither replaces
    the other."""
    _seed(db_url, "2101")
    database = Database(db_url)
    with database.unit_of_work() as session:
        services.hold(session, "2101", STAFF, "address check")
        order = services.get_order(session, "2101", for_update=True)
        services.record_render_refusal(
            session, order, order.items[0], "text too long", SYSTEM, refused_design="x"
        )
    database.dispose()
    assert main(["orders", "show", "2101"]) == 0
    shown = capsys.readouterr().out
    assert "on hold" in shown and "Held: address check (by slack:U1 (maria)" in shown
    assert "Design: needs design (it stays held until someone releases it)" in shown
    assert main(["orders", "show", "2101", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["under_hold"]) == ("on_hold", "needs_design")


def test_fulfilled_records_a_first_sync_hold_as_done(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(db_url, "2201", "2202")
    assert main(["hold", "2201"]) == 0 and main(["hold", "2202"]) == 0
    capsys.readouterr()
    assert main(["fulfilled", "2201"]) == 0
    assert "fulfilled by the shop; nothing was sent anywhere" in capsys.readouterr().out
    assert main(["fulfilled", "2202", "--tracking", "UPS", "1Z999AA10123456784"]) == 0
    assert "its tracking goes to the store" in capsys.readouterr().out
    assert main(["orders", "show", "2202", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "completed"


@pytest.mark.parametrize("number", ["2024/5001", "A 12", "12:30", "ÄB-7"])
def test_any_number_a_store_sends_is_shown_and_held(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str], number: str
) -> None:
    _seed(db_url, number)
    assert main(["orders", "show", number]) == 0
    assert f"Order {number} (main)" in capsys.readouterr().out
    assert main(["hold", f"main:{number}", "--reason", "address check"]) == 0
    assert "on hold" in capsys.readouterr().out
    assert main(["orders", "show", "2024/5002"]) == 2  # a number, but no such order
    assert "no order 2024/5002" in capsys.readouterr().err
