"""The layout is the architecture: stages import down the pipeline, never back up.

A reader finds each stage of the pipeline in one package of ``desktop_qa/core``
(docs/architecture.md); these tests fail when an import runs back up it, when the
core reaches into the GUI or the command line, or when modules pile up at the top
of ``core/`` again.
"""

from __future__ import annotations

from tests import architecture


def test_no_stage_imports_a_later_stage():
    assert architecture.back_arrows() == []


def test_the_core_never_imports_the_front_ends_or_pack_building():
    above = tuple(f"desktop_qa.{name}" for name in architecture.ABOVE_CORE)
    offenders = [
        f"{name} -> {target}"
        for name, path in architecture.modules().items()
        if name.startswith("desktop_qa.core")
        for target in architecture.imports(path)
        if target.startswith(above)
    ]
    assert offenders == []


def test_core_top_holds_the_stages_and_at_most_eight_entries():
    core = architecture.PACKAGE / "core"
    entries = sorted(
        p.name for p in core.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()
    )
    assert len(entries) <= 8, entries
    for stage in architecture.STAGES:
        assert (core / stage / "__init__.py").is_file(), stage


def test_stage_of_names_the_package_a_module_sits_in():
    # The checker itself: a wrong stage_of would make the tests above pass on anything.
    assert architecture.stage_of("desktop_qa.core.reading.loop") == "reading"
    assert architecture.stage_of("desktop_qa.core.documents.ocr.pages") == "documents"
    assert architecture.stage_of("desktop_qa.core.errors") is None
    assert architecture.stage_of("desktop_qa.gui.window") is None
    lines = architecture.stage_arrows()[("reading", "search")]
    assert any(line.startswith("desktop_qa.core.reading.") for line in lines)
