"""Option descriptions from the docstrings written under model fields, read when asked for.

Options are documented the way the stdlib documents attributes::

    class Options(newsroom.Options):
        hours: int = 24
        \"\"\"Keep items published within this many hours.\"\"\"

pydantic can collect these when each class is created (``use_attribute_docstrings``), but it
finds a class's source by walking stack frames and searching ``sys.modules`` for each model,
which cost every ``newsroom`` command about 50 ms of start-up for text that only ``newsroom
schema`` and the generated reference show. Here they are read from the source on demand.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap

from pydantic import BaseModel


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """The docstrings under ``model``'s fields (its bases' included), by field name."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
            docs.update(_own_docs(cls))
    return {name: doc for name, doc in docs.items() if name in model.model_fields}


def field_doc(model: type[BaseModel], name: str) -> str:
    """The description of one field: its ``Field(description=...)``, else its docstring."""
    field = model.model_fields[name]
    return field.description or field_docs(model).get(name, "")


@functools.cache
def _own_docs(cls: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # defined in a REPL or generated: nothing to read
        return {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.ClassDef):
        return {}
    docs = {}
    for field, after in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.target.id] = inspect.cleandoc(after.value.value)
    return docs
