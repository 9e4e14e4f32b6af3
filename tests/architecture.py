"""The house from the code: which stage of ``desktop_qa`` imports which (read from the source).

Run ``python -m tests.architecture`` to print the stages, their modules and the arrows
between them (an arrow that runs back up the pipeline is marked). The test
``tests/test_architecture.py`` holds the same picture against the code.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "desktop_qa"

# The pipeline, bottom first: a stage may import its own and lower stages only.
# ``errors`` is the one module every stage may use.
STAGES = ("system", "documents", "search", "reading", "storage")
ABOVE_CORE = ("packs", "commands", "gui")


def stage_of(module: str) -> str | None:
    """``desktop_qa.core.reading.loop`` -> ``reading``; None for modules outside the stages."""
    parts = module.split(".")
    if parts[:2] != ["desktop_qa", "core"] or len(parts) < 3:
        return None
    return parts[2] if parts[2] in STAGES else None


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every ``desktop_qa`` module a file imports, at any depth (lazy imports count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("desktop_qa"):
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("desktop_qa"))
    return found


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def stage_arrows() -> dict[tuple[str, str], list[str]]:
    """(from stage, to stage) -> the imports behind the arrow, for arrows between stages."""
    arrows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, path in modules().items():
        source = stage_of(name)
        if source is None:
            continue
        for target in imports(path):
            dest = stage_of(target)
            if dest is not None and dest != source:
                arrows[(source, dest)].append(f"{name} -> {target}")
    return dict(arrows)


def back_arrows() -> list[str]:
    """Imports that run back up the pipeline (a lower stage importing a higher one)."""
    order = {s: i for i, s in enumerate(STAGES)}
    return sorted(
        line
        for (source, dest), lines in stage_arrows().items()
        if order[dest] > order[source]
        for line in lines
    )


def main() -> None:
    mods = modules()
    for stage in STAGES:
        prefix = f"desktop_qa.core.{stage}"
        names = sorted(m[len(prefix) + 1 :] for m in mods if stage_of(m) == stage and m != prefix)
        print(f"{stage:10} {len(names):3} modules: {', '.join(names)}")
    print()
    order = {s: i for i, s in enumerate(STAGES)}
    for (source, dest), lines in sorted(stage_arrows().items()):
        mark = "  <- BACK UP THE PIPELINE" if order[dest] > order[source] else ""
        print(f"{source:10} -> {dest:10} {len(lines):3} imports{mark}")


if __name__ == "__main__":
    main()
