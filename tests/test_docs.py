"""The README and docs/: short where a newcomer starts, their tables equal to the outputs they
quote, and every link inside the project resolving."""
from __future__ import annotations

import re

from conftest import ROOT, load_script


def tables_module():
    return load_script("docs/tables.py", "docs_tables")


def test_the_readme_is_short_and_each_job_is_one_command_in_its_first_100_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250
    head = "\n".join(lines[:100])
    for command in ("make repro", "make test", "make kaggle", "make photos PHOTOS="):
        assert command in head, command


def test_the_tables_equal_the_outputs_they_come_from(tmp_path, monkeypatch):
    tables = tables_module()
    assert tables.drifted() == []
    # The check sees a drifted figure.
    readme = (ROOT / "README.md").read_text()
    assert "<!-- table: metrics/summary.md -->" in readme and "<!-- table: bench/results/" in readme
    (tmp_path / "docs").mkdir()
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "summary.md").write_text("| a |\n")
    (tmp_path / "README.md").write_text("x\n<!-- table: metrics/summary.md -->\n| b |\n<!-- end table -->\n")
    monkeypatch.setattr(tables, "ROOT", tmp_path)
    assert tables.drifted() == ["README.md: metrics/summary.md"]
    (tmp_path / "README.md").write_text(tables.refreshed((tmp_path / "README.md").read_text()))
    assert tables.drifted() == [] and "| a |" in (tmp_path / "README.md").read_text()
    # ... and a stale copy of a table left below its current one.
    readme = (tmp_path / "README.md").read_text()
    (tmp_path / "README.md").write_text(readme + "| b |\n<!-- end table -->\n")
    assert tables.drifted() == ["README.md: an <!-- end table --> without its table marker"]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_inside_the_project_resolves():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    anchors = {path: {slug(m) for m in re.findall(r"^#+ (.*)$", path.read_text(), re.M)} for path in documents}
    broken = []
    for path in documents:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.exists():
                broken.append(f"{path.name}: {target}")
            elif anchor and anchor not in anchors.get(linked, set()):
                broken.append(f"{path.name}: {target}")
    assert not broken
