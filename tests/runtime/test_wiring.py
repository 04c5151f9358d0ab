"""The composition root hands each fulfillment object its collaborators when it builds
it: nothing is patched on afterwards, and the countdown and the follow-up share one
provider roster."""

from __future__ import annotations

from pathlib import Path

from podops.runtime.root import Runtime
from podops.settings import Settings


def test_submission_and_follow_up_get_their_collaborators_from_the_root(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database={"url": f"sqlite:///{tmp_path / 'podops.db'}"},
        providers={"sandbox": {"kind": "sandbox"}},
    )  # type: ignore[arg-type]
    runtime = Runtime(settings)
    try:
        assert runtime.submission.print_file_source is runtime.print_files
        assert runtime.submission.roster is runtime.roster
        assert runtime.follow_up.roster is runtime.roster
        assert runtime.follow_up.db is runtime.submission.db is runtime.db
        assert runtime.roster.by_name == runtime.providers
        assert runtime.roster.callbacks is not None
    finally:
        runtime.close()
