"""The tests' own house: they mirror the code they test, share helpers through one package, and
never reach into each other.

- A test module in a folder lives where the code it tests lives: ``tests/db/interchange/`` for
  ``db/interchange/``, ``tests/alembic/`` for the migrations; only ``tests/e2e/`` (from outside
  the process: a live server, node, a browser, the container files) and ``tests/fuzz/`` (the
  whole API, generated) are not named after a package.
- At the top level, only the tests of the top-level modules and files, each named here.
- What tests share is in ``tests/support/`` (no tests there); every other module is a test
  module, a ``conftest.py`` or a package's ``__init__.py``.
- No module under ``tests/`` imports a test module or a ``conftest``: from ``tests`` only
  ``tests.support`` is imported, so a test module can be moved, renamed or run alone.
- Every folder of Python files is a package, so that test modules of the same name in two
  folders (``tests/db/test_external_ids.py``, ``tests/gql/test_external_ids.py``) stay apart.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SUPPORT = TESTS / "support"
NOT_MIRRORS = {"e2e", "fuzz"}
# Top-level test module -> what it tests: a file at the top of the checkout, or the house.
TOP_LEVEL = {
    "test_settings.py": "settings.py",
    "test_logs.py": "logs.py",
    "test_metrics.py": "metrics.py",
    "test_tracing.py": "tracing.py",
    "test_cli.py": "cli.py",
    "test_tokens.py": "cli.py",  # the `nkcinema token` commands
    "test_documents.py": "cli.py",  # the `nkcinema documents` commands
    "test_readme.py": "README.md",  # its examples
    "test_layers.py": "the direction of the packages' imports",
    "test_test_layout.py": "the tests' own layout",
}
OTHER_FILES = {"__init__.py", "conftest.py"}


def _python_files() -> Iterator[Path]:
    for path in sorted(TESTS.rglob("*.py")):
        if "node_modules" not in path.parts and "__pycache__" not in path.parts:
            yield path


def _tests_relative(path: Path) -> Path:
    return path.relative_to(TESTS)


def test_every_test_module_lives_where_the_code_it_tests_lives() -> None:
    misplaced = []
    for path in _python_files():
        relative = _tests_relative(path)
        folders = relative.parts[:-1]
        if not folders:
            if path.name not in TOP_LEVEL and path.name not in OTHER_FILES:
                misplaced.append(f"{relative}: not a top-level module's test")
            continue
        if folders[0] == "support" or folders[0] in NOT_MIRRORS:
            continue
        if not (ROOT.joinpath(*folders)).is_dir():
            misplaced.append(f"{relative}: no {'/'.join(folders)}/ in the checkout")
    assert misplaced == [], "\n".join(misplaced)


def test_the_top_level_tests_name_what_they_test() -> None:
    files = {name: tested for name, tested in TOP_LEVEL.items() if " " not in tested}
    assert [name for name, tested in files.items() if not (ROOT / tested).is_file()] == []


def test_helpers_are_in_support_and_tests_outside_it() -> None:
    wrong = []
    for path in _python_files():
        relative = _tests_relative(path)
        in_support = relative.parts[0] == "support"
        if in_support and path.name.startswith("test_"):
            wrong.append(f"{relative}: a test module among the helpers")
        if not in_support and not path.name.startswith("test_") and path.name not in OTHER_FILES:
            wrong.append(f"{relative}: a helper outside tests/support")
    assert wrong == [], "\n".join(wrong)


def _imports_from_tests(path: Path) -> Iterator[tuple[int, str]]:
    """Every ``tests...`` module ``path`` imports (relative imports included), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "tests" or alias.name.startswith("tests."):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield node.lineno, "." * node.level + (node.module or "")
            elif node.module == "tests":
                for alias in node.names:
                    yield node.lineno, f"tests.{alias.name}"
            elif node.module and node.module.startswith("tests."):
                yield node.lineno, node.module


def test_nothing_imports_a_test_module_or_a_conftest() -> None:
    found = []
    for path in _python_files():
        for line, module in _imports_from_tests(path):
            if module != "tests.support" and not module.startswith("tests.support."):
                found.append(f"{_tests_relative(path)}:{line} imports {module}")
    assert found == [], "\n".join(found)


def test_every_folder_of_python_files_is_a_package() -> None:
    folders = {path.parent for path in _python_files()}
    missing = [f for f in sorted(folders) if not (f / "__init__.py").exists()]
    assert missing == [], missing


def test_the_rules_see_the_tests() -> None:
    """Guards the rules above against passing by finding nothing."""
    files = list(_python_files())
    assert len(files) > 50
    assert any(_imports_from_tests(TESTS / "conftest.py"))
