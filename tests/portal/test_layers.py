"""The layered house (issue 12 §2): utilities → accounts → indicators → reporting | ledger → portal.

The import-linter contract in pyproject.toml is what CI enforces (``make lint``); these tests run it
as part of the suite, and read the sources themselves for what a contract does not say: utilities
imports no app at all, and no module reaches into another app's private (``_name``) helpers.
Imports inside functions count everywhere.
"""

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def project_apps():
    """The project's own apps (not Django's or third parties'), by package name."""
    return sorted(c.name for c in apps.get_app_configs() if Path(c.path).resolve().parent == ROOT.resolve())


def modules_of(package):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_module(dotted):
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported(tree):
    """(line, module, names) of every absolute import statement, module level or inside a function."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [alias.name for alias in node.names]


def lint_imports():
    command = Path(sys.executable).with_name("lint-imports")
    if not command.exists():
        command = shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports 未安装：pip install -e '.[test]'")
    return subprocess.run(
        [str(command), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_layers_contract_declares_every_app_in_order():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert config["include_external_packages"] is False
    (contract,) = config["contracts"]
    assert contract["type"] == "layers"
    layers = [[name.strip() for name in layer.split("|")] for layer in contract["layers"]]
    assert layers == [["portal"], ["reporting", "ledger"], ["indicators"], ["accounts"], ["utilities"]]
    # Every app of the project is in a layer and analysed; config (the project itself) is analysed too.
    assert sorted(name for layer in layers for name in layer) == project_apps()
    assert set(config["root_packages"]) == {*project_apps(), "config"}


def test_the_layers_contract_is_kept():
    result = lint_imports()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 kept, 0 broken" in output


def test_utilities_imports_no_app():
    others = set(project_apps()) - {"utilities"}
    found = [
        f"{path.relative_to(ROOT)}:{line} {module}"
        for path, tree in modules_of("utilities")
        for line, module, _names in imported(tree)
        if module.split(".")[0] in others or module.split(".")[0] == "config"
    ]
    assert found == []


def test_the_utilities_check_sees_imports_inside_functions():
    tree = ast.parse("def late():\n    from accounts.models import Region\n    return Region\n")
    assert list(imported(tree)) == [(2, "accounts.models", ["Region"])]


def test_no_module_uses_another_apps_private_helpers():
    app_names = set(project_apps())
    found = []
    for app in app_names:
        for path, tree in modules_of(app):
            other_modules = set()  # local names bound to another app's modules
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    top = node.module.split(".")[0]
                    if top not in app_names or top == app:
                        continue
                    for alias in node.names:
                        if alias.name.startswith("_") or any(part.startswith("_") for part in node.module.split(".")):
                            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}")
                        if is_module(f"{node.module}.{alias.name}"):
                            other_modules.add(alias.asname or alias.name)
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.split(".")[0] in app_names - {app}:
                            other_modules.add(alias.asname or alias.name.split(".")[0])
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                    base = node.value
                    while isinstance(base, ast.Attribute):
                        base = base.value
                    if isinstance(base, ast.Name) and base.id in other_modules:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {base.id}….{node.attr}")
    assert found == []
