"""`make bench-compare BASE=<ref>` (benchmarks/compare_suite.py): another commit's suite and the working tree's,
run in turns in a temporary worktree that has the working tree's environments, and their ratio. The suites here
are a one-line command that says which side ran it; the real suites take minutes a pair."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.compare_suite import (
    Pair,
    SuiteFailedError,
    SuiteRun,
    compare,
    last_line,
    main,
    report,
)
from tests.support import git

# The suite's stand-in: its last line is the side's side.txt and whether it sees the working tree's .venv.
SAYS_WHICH_SIDE = (
    sys.executable,
    "-c",
    "import pathlib; print(pathlib.Path('side.txt').read_text().strip(), pathlib.Path('.venv/marker').is_file())",
)


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """Two commits, ``base`` and the next, whose side.txt says which; an ignored .venv as `make setup` leaves it."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / ".gitignore").write_text(".venv/\n")
    (root / ".venv").mkdir()
    (root / ".venv" / "marker").write_text("")
    (root / "side.txt").write_text("base\n")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--message", "base")
    git(root, "tag", "base")
    (root / "side.txt").write_text("head\n")
    git(root, "commit", "--quiet", "--all", "--message", "head")
    return root


def test_runs_the_base_and_the_working_tree_in_turns_with_its_environments(repository: Path) -> None:
    """Each pair: ``base``'s own commit in the worktree, then the working tree; both see the .venv that git
    ignores (linked into the worktree)."""
    pairs = compare(repository, "base", 2, command=SAYS_WHICH_SIDE)
    assert [(pair.base.summary, pair.head.summary) for pair in pairs] == [("base True", "head True")] * 2, pairs
    assert all(pair.base.seconds > 0 and pair.head.seconds > 0 for pair in pairs), pairs


def test_the_temporary_worktree_is_removed(repository: Path) -> None:
    compare(repository, "base", 1, command=SAYS_WHICH_SIDE)
    worktrees = git(repository, "worktree", "list", "--porcelain")
    assert worktrees.count("worktree ") == 1, f"bench-compare left a worktree behind:\n{worktrees}"


def test_a_failing_suite_stops_the_comparison_naming_the_side(repository: Path) -> None:
    fails_at_base = (
        sys.executable,
        "-c",
        "import pathlib, sys; print('1 failed'); sys.exit(pathlib.Path('side.txt').read_text().strip() == 'base')",
    )
    with pytest.raises(SuiteFailedError, match=r"^the suite of base fails \(exit 1\): 1 failed$"):
        compare(repository, "base", 1, command=fails_at_base)
    assert git(repository, "worktree", "list", "--porcelain").count("worktree ") == 1, "the worktree stays behind"


def test_an_unknown_ref_is_one_line_and_exit_2(repository: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The review's resolver (``synth --against``) says it, under this command's name."""
    assert main(["no-such-ref"], root=repository) == 2
    assert capsys.readouterr().err == (
        "bench-compare: unknown git ref 'no-such-ref' (no commit by that name here; in CI, fetch it first: "
        "actions/checkout with fetch-depth: 0)\n"
    )


def test_the_report_gives_each_pair_the_median_ratio_and_the_scaled_time() -> None:
    def pair(base: float, head: float) -> Pair:
        return Pair(SuiteRun(base, "973 passed in 1s"), SuiteRun(head, "1430 passed in 1s"))

    text = report("434db33", [pair(50.0, 25.0), pair(60.0, 24.0), pair(40.0, 24.0)], base_seconds=40, lock_differs=True)
    lines = text.splitlines()
    assert lines[1].split() == ["1", "50.0", "s", "25.0", "s", "0.50"], lines[1]
    assert "median ratio 0.50 (working tree / 434db33), from 3 pair(s) run in turns" in lines, text
    assert "where 434db33's suite takes 40 s, the working tree's takes 20.0 s" in lines, text
    assert "note: uv.lock differs at 434db33; its suite ran on the working tree's dependencies" in lines, text
    assert "434db33: 973 passed in 1s" in lines and "working tree: 1430 passed in 1s" in lines, text


def test_last_line_is_pytests_summary_without_its_rule() -> None:
    assert last_line("....\n==== 1430 passed in 25.63s ====\n\n") == "1430 passed in 25.63s"
    assert last_line("") == ""
