"""Suite-wide set-up: which tests share an expensive set-up, so pytest-xdist keeps them on one worker.

`make test` runs ``pytest -n 2 --dist loadgroup`` (pytest-xdist): tests are spread over two worker processes, and
the tests of a group in ``SHARED_SETUP`` go to one worker together, so their set-up runs once instead of once per
worker. Every real-browser test (tests/browser/) is one group: one app server and one Chromium for all of them
(two of each would fight over the two cores and time out), and the two-server course behind HAProxy in its one
work directory never runs twice at once; while that worker drives the browser, the other runs the rest. Without
xdist nothing here is used.
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


def xdist_group_of(nodeid: str) -> str | None:
    """The group of the test ``nodeid`` (relative to the repository), or None when it may run on any worker.

    >>> xdist_group_of("tests/test_package.py::test_the_wheel_holds_only_quantviz_and_all_of_it")
    'package'
    >>> xdist_group_of("tests/browser/test_live.py::test_a_tie_stays_a_tie_in_the_browser")
    'browser'
    >>> xdist_group_of("tests/test_pages.py::test_page_runs_at_defaults[zero_point.py]") is None
    True
    """
    where = nodeid.split("::")[0].removeprefix("tests/")
    return next((group for prefix, group in SHARED_SETUP.items() if where.startswith(prefix)), None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> object | None:
    """For ``--dist loadgroup``: one work unit per group of ``SHARED_SETUP``, every other test a unit of its own.

    xdist's own loadgroup reads ``xdist_group`` markers by renaming each item's nodeid, which pytest 9 no longer
    allows (nodeid became read-only), so the groups are given to its scope scheduler here, by path. The biggest
    unit (the browser tests) is handed out first.
    """
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedSetupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group_of(nodeid) or nodeid

    return SharedSetupScheduling(config, log)
