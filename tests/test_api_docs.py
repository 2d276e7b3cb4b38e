"""The public API documents itself: ``__all__`` is complete and every name has a docstring."""

from __future__ import annotations

import inspect
import pydoc
import runpy
import types
from pathlib import Path

import pytest

import pointline_storage

PUBLIC = sorted(pointline_storage.__all__)


def _is_code(obj: object) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj)


def test_all_lists_every_public_name() -> None:
    exported = {
        name
        for name, value in vars(pointline_storage).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert exported == set(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_documented(name: str) -> None:
    obj = getattr(pointline_storage, name)
    if not _is_code(obj):
        # Constants, aliases and markers carry no docstring of their own: the package's says
        # what they are.
        assert f"``{name}``" in (pointline_storage.__doc__ or "")
        return
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    # A dataclass without a docstring gets its signature as one.
    assert not doc.startswith(f"{name}("), f"{name} has only a generated docstring"
    if inspect.isclass(obj):
        assert "__doc__" in vars(obj), f"{name} inherits its docstring"
        for attribute, member in vars(obj).items():
            if not attribute.startswith("_") and inspect.isfunction(member):
                assert inspect.getdoc(member), f"{name}.{attribute} has no docstring"


def test_pydoc_renders_the_package_guide() -> None:
    text = pydoc.plain(pydoc.render_doc(pointline_storage))
    assert "Load a backend by name" in text
    for name in ("load_backend", "TableInspection", "to_arrow", "TraceObserver"):
        assert name in text


def test_the_api_page_is_up_to_date() -> None:
    script = Path(__file__).parent.parent / "docs" / "generate_api.py"
    render = runpy.run_path(str(script))["render"]
    page = script.with_name("api.md").read_text()
    assert page == render(), "run: uv run python docs/generate_api.py"
    for name in ("load_backend", "TableInspection.to_arrow", "CompactionReport.to_dict"):
        assert f"`{name}`" in page
