"""Suite-wide set-up: which tests share an expensive set-up, so pytest-xdist keeps them on one worker.

`make test` runs ``pytest -n 2 --dist loadgroup`` (pytest-xdist): tests are spread over two worker processes, and
the tests given an ``xdist_group`` here go to one worker together, so their set-up runs once instead of once per
worker. Every real-browser test (tests/browser/) is one group: one app server and one Chromium for all of them
(two of each would fight over the two cores and time out), and the two-server course behind HAProxy in its one
work directory never runs twice at once; while that worker drives the browser, the other runs the rest. Without
xdist the marker is inert.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# module or folder (relative to tests/) -> group name
SHARED_SETUP = {
    "browser/": "browser",  # one app server, one Chromium; the course's servers and work directory
    "test_package.py": "package",  # the wheel and a fresh venv, built once
    "test_notebook.py": "notebook",  # the notebook, executed once in a real kernel
}


def xdist_group_of(path: Path) -> str | None:
    """The xdist group of the tests in ``path``, or None when they may run on any worker.

    >>> xdist_group_of(TESTS / "test_package.py")
    'package'
    >>> xdist_group_of(TESTS / "browser" / "test_live.py")
    'browser'
    >>> xdist_group_of(TESTS / "test_pages.py") is None
    True
    """
    try:
        relative = path.resolve().relative_to(TESTS).as_posix()
    except ValueError:  # a doctest in quantviz/ or deploy/
        return None
    return next((group for where, group in SHARED_SETUP.items() if relative.startswith(where)), None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = xdist_group_of(Path(item.path))
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
