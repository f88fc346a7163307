"""No import cycles among the project's own modules (bot/, storage/, config/).

Every import counts: at the top, inside functions (an import moved into a function hides a cycle, it
does not remove it) and under `if TYPE_CHECKING:`. `from pkg import name` is an import of the submodule
pkg.name when there is one, else of pkg."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "config")

# Imports (importer, imported) still closing a cycle, allowed for now. Only bot/flows and bot/handlers may
# appear here: being removed in issue 12's flow engine. Empty: no such cycle is left today.
KNOWN_ELSEWHERE: frozenset[tuple[str, str]] = frozenset()

Graph = dict[str, set[str]]


def project_modules(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the packages (a package is its __init__)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The dotted names each import statement in the file asks for, wherever the statement is."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..storage import y
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in modules else base


def import_graph(modules: dict[str, Path]) -> Graph:
    """module -> the project modules it imports (outside imports such as telegram are left out)."""
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        for target in _imported(name, path, modules):
            while target and target not in modules:  # `import storage.db.x` where x is a name: storage.db
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def strongly_connected(graph: Graph) -> list[list[str]]:
    """The groups of modules that import one another, directly or not (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def cycles(graph: Graph, limit: int = 100) -> list[list[str]]:
    """Every elementary cycle (up to `limit`), each starting at its smallest module name."""
    found: list[list[str]] = []
    for group in strongly_connected(graph):
        for start in group:  # cycles through `start` and modules after it only: each cycle once
            _walk(graph, set(group), [start], found, limit)
    return found


def _walk(graph: Graph, members: set[str], path: list[str], found: list[list[str]], limit: int) -> None:
    for other in sorted(graph[path[-1]] & members):
        if len(found) >= limit:
            return
        if other == path[0]:
            found.append([*path, other])
        elif other > path[0] and other not in path:
            _walk(graph, members, [*path, other], found, limit)


def _without_known(graph: Graph) -> Graph:
    return {name: {t for t in targets if (name, t) not in KNOWN_ELSEWHERE} for name, targets in graph.items()}


def test_no_import_cycles() -> None:
    graph = _without_known(import_graph(project_modules()))
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join("  " + " -> ".join(cycle) for cycle in found)


def test_known_elsewhere_only_in_flows_and_handlers_and_still_there() -> None:
    graph = import_graph(project_modules())
    for importer, imported in sorted(KNOWN_ELSEWHERE):
        for name in (importer, imported):
            assert name.startswith(("bot.flows", "bot.handlers")), f"{name}: only flows/handlers may be known"
        assert imported in graph.get(importer, set()), (
            f"{importer} no longer imports {imported}: remove it from KNOWN_ELSEWHERE"
        )


def test_the_graph_sees_function_level_and_submodule_imports(tmp_path: Path) -> None:
    """The checker itself: a cycle closed inside a function, through `from pkg import submodule`."""
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.sub import b\nimport json\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("def f():\n    from .. import c\n    return c\n")
    (tmp_path / "pkg" / "c.py").write_text("from pkg import Thing\n\ndef g():\n    import pkg.a.name\n")
    graph = import_graph(project_modules(tmp_path, ("pkg",)))
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg.c"] == {"pkg", "pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]
    assert strongly_connected(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]


def test_the_project_graph_is_read() -> None:
    """A sanity check that the real tree was parsed: imports moved into functions on purpose are seen."""
    graph = import_graph(project_modules())
    assert "bot.sandbox_terminal" in graph["bot.cli"]  # lazy, for start-up time
    assert "bot.services.alert_lifecycle" in graph["bot.services.checkins"]


# Only the adapters know a messenger: these import nothing of python-telegram-bot, nor bot.telegram.
MESSENGER_NEUTRAL = (
    "bot/flows",
    "bot/handlers",
    "bot/services",
    "bot/jobs",
    "bot/plain",
    "storage",
    "config",
    "bot/render.py",
    "bot/messenger.py",
    "bot/redaction.py",
    "bot/sandbox.py",  # the terminal chat runs on bot/plain
    "bot/sandbox_terminal.py",
    "bot/shredder.py",
    "bot/sendlimit.py",
)
TELEGRAM = ("telegram", "bot.telegram")


def _is_telegram(name: str) -> bool:
    return any(name == t or name.startswith(t + ".") for t in TELEGRAM)


def telegram_imports(module: str, path: Path) -> list[str]:
    """`line: name` of every import of telegram or bot.telegram in the file, wherever the statement is
    (inside functions and under TYPE_CHECKING too), `from bot import telegram` and relative ones included."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], node.module or ""])
            else:
                base = node.module or ""
            base = base.strip(".")
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names = [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        found += [f"{node.lineno}: {name}" for name in names if _is_telegram(name)][:1]
    return found


def _neutral_modules(root: Path = ROOT) -> dict[str, Path]:
    modules = project_modules(root, ("bot", "storage", "config"))
    return {
        name: path
        for name, path in modules.items()
        if any(str(path.relative_to(root)).startswith(prefix) for prefix in MESSENGER_NEUTRAL)
    }


def test_flows_handlers_services_jobs_and_storage_import_nothing_of_telegram() -> None:
    neutral = _neutral_modules()
    assert {"bot.jobs.outbox", "bot.render", "bot.messenger", "storage.db", "bot.flows.engine"} <= set(neutral)
    offending = {name: found for name, path in neutral.items() if (found := telegram_imports(name, path))}
    assert not offending, "python-telegram-bot outside the adapter (bot/telegram/):\n" + "\n".join(
        f"  {name}: {', '.join(found)}" for name, found in sorted(offending.items())
    )


def test_the_telegram_import_check_sees_every_form(tmp_path: Path) -> None:
    """The checker itself: at the top, in a function, under TYPE_CHECKING, relative, and by import_module."""
    (tmp_path / "bot" / "jobs").mkdir(parents=True)
    forms = {
        "a": "import telegram\n",
        "b": "def f():\n    from telegram.error import BadRequest\n",
        "c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.telegram.context import BotContext\n",
        "d": "from bot import telegram\n",
        "e": "from ..telegram import jobs\n",
        "f": "import importlib\nimportlib.import_module('telegram.ext')\n",
        "clean": "from bot.messenger import Gone\nimport telegramish\n# import telegram\n",
    }
    for name, text in forms.items():
        (tmp_path / "bot" / "jobs" / f"{name}.py").write_text(text)
    found = {name: telegram_imports(name, path) for name, path in _neutral_modules(tmp_path).items()}
    assert {name.rpartition(".")[2] for name, hits in found.items() if hits} == set(forms) - {"clean"}
    assert found["bot.jobs.clean"] == []
