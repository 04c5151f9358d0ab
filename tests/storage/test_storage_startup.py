"""A wrong bucket, wrong keys or an endpoint nobody answers: a configuration error
naming the setting at start-up (exit 2), before any order is touched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podops.cli.main import main
from podops.errors import ConfigError
from podops.settings import StorageConfig
from providers.storage_local import LocalStorage
from providers.storage_s3 import S3Storage
from tests.fakes.s3_server import S3Server
from tests.storage.conftest import s3_settings


@pytest.fixture(scope="module")
def checking_s3() -> Iterator[S3Server]:
    """A server that checks keys as AWS does (and so serves no presigned links)."""
    with S3Server(check_keys=True) as server:
        yield server


def _check(s3: S3Server, tmp_path: Path, **changes: str) -> None:
    config = StorageConfig(**s3_settings(s3, **changes))
    S3Storage(config, LocalStorage(tmp_path, "", None, 60)).check()


def test_the_right_bucket_and_keys_pass(checking_s3: S3Server, tmp_path: Path) -> None:
    _check(checking_s3, tmp_path)


def test_a_bucket_that_does_not_exist_names_storage_bucket(
    checking_s3: S3Server, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"^storage.bucket: no bucket 'no-such-bucket'"):
        _check(checking_s3, tmp_path, bucket="no-such-bucket")


@pytest.mark.parametrize("wrong", ["access_key_id", "secret_access_key"])
def test_a_wrong_key_names_the_environment_variables(
    checking_s3: S3Server, tmp_path: Path, wrong: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        _check(checking_s3, tmp_path, **{wrong: "AKIAWRONGWRONGWRONG"})
    assert str(refused.value).startswith(
        "PODOPS_STORAGE__ACCESS_KEY_ID / PODOPS_STORAGE__SECRET_ACCESS_KEY: "
    )
    assert checking_s3.keys.secret_access_key not in str(refused.value)


def test_podops_storage_check_exits_2_on_a_wrong_bucket(
    checking_s3: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    assert main(["init"]) == 0
    for key, value in s3_settings(checking_s3, bucket="no-such-bucket").items():
        monkeypatch.setenv(f"PODOPS_STORAGE__{key.upper()}", str(value))
    assert main(["storage", "check"]) == 2
    assert "storage.bucket: no bucket 'no-such-bucket'" in capsys.readouterr().err


def test_an_endpoint_nobody_answers_names_storage_endpoint_url(tmp_path: Path) -> None:
    config = StorageConfig(
        kind="s3",
        bucket="shop",
        endpoint_url="http://127.0.0.1:9",
        timeout_s=2,
        access_key_id="AKIAEXAMPLE",
        secret_access_key="secret",
    )  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^storage.endpoint_url: cannot reach"):
        S3Storage(config, LocalStorage(tmp_path, "", None, 60)).check()


def test_an_s3_storage_without_a_bucket_is_refused_when_read() -> None:
    with pytest.raises(ValueError, match=r"set storage\.bucket"):
        StorageConfig(kind="s3")


def test_s3_without_keys_names_the_environment_variables(tmp_path: Path) -> None:
    config = StorageConfig(kind="s3", bucket="shop", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="set PODOPS_STORAGE__ACCESS_KEY_ID and PODOPS_STORAGE"):
        S3Storage(config, LocalStorage(tmp_path, "", None, 60))
