"""`podops products` and `podops templates check` as an operator runs them: the CSV
file's bad rows printed with their row, and product codes no catalog knows named."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops.cli.main import main


@pytest.fixture
def config(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    from podops.cli import main as cli

    monkeypatch.setattr(cli.out, "width", 200)
    monkeypatch.delenv("PODOPS_DATABASE__URL", raising=False)
    monkeypatch.setenv("PODOPS_PROVIDERS__CUSTOMCAT__API_KEY", "test-key")
    path = tmp_path / "podops.toml"
    path.write_text(
        f'data_dir = "{tmp_path}"\n[database]\nurl = "{db_url}"\n'
        '[stores.main]\nplatform = "sandbox"\ndefault_provider = "manual"\n'
        '[providers.sandbox]\nkind = "sandbox"\ncatalog = ["SB-TEE", "SB-MUG"]\n'
        '[providers.customcat]\nkind = "customcat"\n'
        '[providers.manual]\nkind = "manual"\n'
        '[[routing]]\nsku = "TEE-*"\nprovider = "sandbox"\nprovider_sku = "SB-TEE"\n'
        'product_key = "tee-front"\n'
        '[[routing]]\nsku = "MUG-*"\nprovider = "sandbox"\nprovider_sku = "SB-MUGG"\n'
        'product_key = "mug-11oz"\n'
        '[[routing]]\nsku = "CAP-*"\nprovider = "customcat"\nprovider_sku = "CC-CAP"\n'
        '[products]\ncsv = "products.csv"\n',
        encoding="utf-8",
    )
    (tmp_path / "products.csv").write_text(
        "SKU,Provider,Provider SKU,Template\n"
        "MUG-11-W,sandbox,SB-MUG,mug-11oz\n"
        "MUG-15-W,sandbox,SB-MUG-15,mug-11oz\n"
        "TEE-1,sandboxx,SB-TEE,tee-front\n"
    )
    assert main(["-c", str(path), "db", "upgrade"]) == 0
    return path


def test_import_prints_each_bad_row_and_list_shows_the_table(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["-c", str(config), "products", "import"]) == 1
    out = capsys.readouterr().out
    assert (
        "products.csv row 3 (MUG-15-W): error: sandbox does not know SB-MUG-15: "
        "not in the sandbox catalog" in out
    )
    assert "products.csv row 4 (TEE-1): error: unknown provider 'sandboxx'" in out
    assert "3 row(s) stored, 2 with errors" in out
    assert main(["-c", str(config), "products", "list"]) == 0
    listed = capsys.readouterr().out
    assert "MUG-11-W" in listed and "SB-MUG" in listed
    assert "3 row(s), 2 with errors (those SKUs go by the rules)." in listed


def test_templates_check_names_codes_their_provider_does_not_know(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["-c", str(config), "products", "import"])
    capsys.readouterr()
    assert main(["-c", str(config), "templates", "check"]) == 1
    out = capsys.readouterr().out
    assert (
        "UNKNOWN routing rule 2 (MUG-*): sandbox does not know SB-MUGG: "
        "not in the sandbox catalog" in out
    )
    assert "not checkable: customcat has no catalog podops can read" in out
    # The table's good row was checked too (SB-MUG), the rule's SB-TEE is known
    assert "3 code(s) checked, 1 unknown" in out
    assert "UNKNOWN routing rule 1" not in out
