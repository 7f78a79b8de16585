"""Suite-wide set-up: which tests share an expensive module fixture, so pytest-xdist keeps them on one worker.

`make test` runs ``pytest -n 2 --dist loadgroup`` (pytest-xdist): tests are spread over two worker processes, and
the tests of a module listed in ``SHARED_SETUP`` go to one worker together (an ``xdist_group`` marker), so its
module-scoped set-up (a built wheel, an executed notebook, a two-server course behind HAProxy in one work
directory) runs once instead of once per worker. Without xdist the marker is inert.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# module (relative to tests/) -> group name; why each shares its set-up is in the module's fixture docstring
SHARED_SETUP = {
    "browser/test_course.py": "course",  # two app servers + HAProxy in test-artifacts/course-test: one at a time
    "browser/test_live.py": "live",  # one tab on Number line for the whole module
    "test_package.py": "package",  # the wheel and a fresh venv, built once
    "test_notebook.py": "notebook",  # the notebook, executed once in a real kernel
}


def xdist_group_of(path: Path) -> str | None:
    """The xdist group of the tests in ``path``, or None when they may run on any worker.

    >>> xdist_group_of(TESTS / "test_package.py")
    'package'
    >>> xdist_group_of(TESTS / "test_pages.py") is None
    True
    """
    try:
        relative = path.resolve().relative_to(TESTS).as_posix()
    except ValueError:  # a doctest in quantviz/ or deploy/
        return None
    return SHARED_SETUP.get(relative)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = xdist_group_of(Path(item.path))
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
