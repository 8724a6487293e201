"""The configuration reference, generated from the option models themselves.

``docs/configuration.md`` embeds the output of :func:`options_reference` between markers;
a test fails when it is out of date (regenerate with ``python -m newsroom.config.reference``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from newsroom.config.fielddocs import field_doc
from newsroom.core.plugins import Plugins, load_plugins

BEGIN = "<!-- BEGIN GENERATED OPTIONS -->"
END = "<!-- END GENERATED OPTIONS -->"


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation)
    text = re.sub(r"typing\.|pydantic\.types\.|newsroom_\w+\.|<class '([^']+)'>", r"\1", text)
    text = text.replace("NoneType", "None").replace("SecretStr", "secret")
    return text


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        value = value.model_dump()
    try:
        return f"`{json.dumps(value, ensure_ascii=False)}`"
    except TypeError:
        return f"`{value}`"


def model_table(model: type[BaseModel]) -> str:
    """A Markdown table of ``model``'s fields: option, type, default, description."""
    rows = ["| option | type | default | |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        doc = " ".join(field_doc(model, name).split()).replace("|", "\\|")
        type_name = _type_name(field.annotation).replace("|", "\\|")
        rows.append(f"| `{field.alias or name}` | {type_name} | {_default(field)} | {doc} |")
    return "\n".join(rows)


def options_reference(plugins: Plugins | None = None) -> str:
    """Markdown for the ``[plugins]``, ``[email]``, ``[subscriptions]`` and ``[publish]`` tables
    and every registered source, filter, section layout, renderer, transport and feedback
    receiver."""
    from newsroom.config import PluginsConfig, PublishConfig, StateConfig
    from newsroom.config.mail import EmailConfig, MailboxConfig, SubscriptionsConfig

    plugins = plugins or load_plugins()
    out: list[str] = []
    for table, model in (
        ("plugins", PluginsConfig),
        ("email", EmailConfig),
        ("subscriptions", SubscriptionsConfig),
        ("mailbox", MailboxConfig),
        ("publish", PublishConfig),
        ("state", StateConfig),
    ):
        out.append(f"### `[{table}]`\n")
        out.append(" ".join((model.__doc__ or "").split()) + "\n")
        out.append(model_table(model) + "\n")
    for kind, title in (
        ("source", "Sources"),
        ("filter", "Filters"),
        ("section", "Section layouts"),
        ("renderer", "Renderers"),
        ("transport", "Transports (`[transport]`)"),
        ("feedback", "Email services' reports (`[[feedback]]`)"),
    ):
        out.append(f"### {title}\n")
        for reg in plugins.registry(kind):
            doc = " ".join((reg.cls.description or (reg.cls.__doc__ or "")).split())
            out.append(f"#### `{reg.name}` ({reg.package})\n")
            if doc:
                out.append(doc + "\n")
            if reg.cls.Options.model_fields:
                out.append(model_table(reg.cls.Options) + "\n")
            else:
                out.append("No options.\n")
    return "\n".join(out).strip() + "\n"


def update_file(path: Path, plugins: Plugins | None = None) -> bool:
    """Rewrite the generated part of ``path``; return True when it changed."""
    text = path.read_text("utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    new = f"{head}{BEGIN}\n{options_reference(plugins)}{END}{tail}"
    if new != text:
        path.write_text(new, "utf-8")
        return True
    return False


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/configuration.md")
    print("updated" if update_file(target) else "up to date", target)
