"""Which project modules a module runs: its imports, followed transitively, read from the source.

Used to check that each DVC stage depends on all the code it runs, and to key cached benchmark
models on the code that trained them.
"""
from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]


def module_file(module: str) -> str:
    """stages.lib.io -> stages/lib/io.py; a package -> its __init__.py (relative to the project)."""
    base = PurePosixPath(*module.split("."))
    return str(base / "__init__.py") if (ROOT / base).is_dir() else f"{base}.py"


def _imported(module: str) -> set[str]:
    """Project modules that `module`'s source imports, at any depth of its code."""
    path = ROOT / module_file(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text())
    # Imports under `if TYPE_CHECKING:` never run: they are not the module's code.
    for block in [n for n in ast.walk(tree) if isinstance(n, ast.If) and ast.unparse(n.test).endswith("TYPE_CHECKING")]:
        block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            # `from pkg import name` imports pkg, and pkg.name too where that is a module.
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] == "stages" and (ROOT / module_file(name)).exists()}
    return found


def closure(modules: set[str]) -> set[str]:
    """`modules`, the packages above them (Python runs those first) and all they import."""
    seen, todo = set(), list(modules)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))] + sorted(_imported(module))
    return seen


def closure_files(modules: set[str]) -> list[str]:
    return sorted(module_file(m) for m in closure(modules))
