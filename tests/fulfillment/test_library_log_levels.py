"""Library chatter stays out of the service's log: a packing slip (fpdf2 subsets
its font with fontTools) writes no INFO lines from fontTools, while podops' own
INFO lines still appear; asking for DEBUG lets the libraries speak again."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from podops import logs
from providers.packing_slip import PackingSlip, SlipLine, render_pdf


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Put the root logger and the library loggers back as the test found them."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    library_levels = {name: logging.getLogger(name).level for name in logs.NOISY}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in library_levels.items():
            logging.getLogger(name).setLevel(saved)


def _slip() -> PackingSlip:
    return PackingSlip(
        "1001",
        "main-1001",
        ["Ana Souza", "Rua Augusta 5, São Paulo"],
        [SlipLine("1001-01", "MUG-11", "Mug", 1, {"name": "Łucja"})],
    )


def _loggers_of(stderr: str) -> list[tuple[str, str]]:
    entries = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [(entry["level"], entry["logger"]) for entry in entries]


@pytest.mark.usefixtures("restored_logging")
def test_a_packing_slip_writes_no_info_lines_from_fonttools(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure(json_lines=True, level="INFO")
    render_pdf(_slip())
    logging.getLogger("podops.fulfillment").info("packing slip written")
    written = _loggers_of(capsys.readouterr().err)
    assert ("info", "podops.fulfillment") in written
    assert [entry for entry in written if not entry[1].startswith("podops")] == []


@pytest.mark.usefixtures("restored_logging")
def test_debug_lets_the_libraries_speak(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(json_lines=True, level="DEBUG")
    render_pdf(_slip())
    written = _loggers_of(capsys.readouterr().err)
    assert any(name.startswith("fontTools") for _, name in written)
    logs.configure(json_lines=True, level="INFO")  # and a later INFO quiets them again
    render_pdf(_slip())
    assert not any(n.startswith("fontTools") for _, n in _loggers_of(capsys.readouterr().err))
