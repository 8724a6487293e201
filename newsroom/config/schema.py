"""A JSON Schema of ``newsroom.toml``, for editors, built from the option models.

The core tables come from their pydantic models, and every ``[[sources]]``, ``[[filters]]``,
``[[sections]]``, ``[[renderers]]`` and ``[transport]`` table from the ``Options`` of the
installed plugins, one alternative per plugin keyed by its ``plugin`` name. The schema keeps
to JSON Schema draft 4, the newest draft taplo (and so Even Better TOML) reads.

It is a help for typing, not the validator: ``newsroom check`` runs the models themselves,
including checks a schema cannot express (a section matching a source that exists).
"""

from __future__ import annotations

import warnings
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from newsroom.config.fielddocs import field_docs
from newsroom.config.loading import (
    _KINDS,
    HttpConfig,
    NewsletterConfig,
    PluginsConfig,
    PublishConfig,
    StateConfig,
)
from newsroom.core.plugins import Plugins

DRAFT = "http://json-schema.org/draft-04/schema#"
SECRET = "secret"
"""Definition name of ``{ "$env" = ... }`` / ``{ "$file" = ... }``."""

_SECRET_SCHEMA: dict[str, Any] = {
    "description": 'A value read from the environment, { "$env" = "NAME" }, or from a file '
    'next to the config, { "$file" = "path" }.',
    "oneOf": [
        {
            "type": "object",
            "properties": {"$env": {"type": "string", "minLength": 1}},
            "required": ["$env"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"$file": {"type": "string", "minLength": 1}},
            "required": ["$file"],
            "additionalProperties": False,
        },
    ],
}
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
_CORE_KEYS: dict[str, dict[str, Any]] = {
    "name": {"type": "string", "description": "The instance's name."},
    "id": {"type": "string", "description": "The section's id (unique)."},
    "title": {"type": "string", "description": "The section's heading."},
    "intro": {"type": "string", "description": "A line under the section's heading."},
    "plugin": {"type": "string", "description": "Which plugin makes this component."},
    "enabled": {"type": "boolean", "description": "false keeps the table out of the build."},
}


def _draft4(node: Any, secrets_allowed: bool) -> Any:
    """Rewrite a pydantic (draft 2020-12) schema node as draft 4; where the config accepts
    ``$env``/``$file`` for a value, say so."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title":
            continue  # pydantic's titles ("Max Results") only repeat the key
        if key in _SCHEMA_MAPS:
            convert = _value_schema if key == "properties" else _draft4
            out[key] = {k: convert(v, secrets_allowed) for k, v in value.items()}
        elif key in _SCHEMA_LISTS:
            out[key] = [_draft4(v, secrets_allowed) for v in value]
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _draft4(value, secrets_allowed)
        elif key == "prefixItems":
            out["items"] = [_draft4(v, secrets_allowed) for v in value]
        elif key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        else:
            out[key] = value
    return out


def _value_schema(node: dict[str, Any], secrets_allowed: bool) -> dict[str, Any]:
    """The schema of one option's value."""
    converted = _draft4(node, secrets_allowed)
    if _is_secret(node):
        # Secrets refuse a literal: only a reference is valid.
        return {"description": converted.get("description", ""), "$ref": f"#/definitions/{SECRET}"}
    if not secrets_allowed:
        return dict(converted)
    described = {k: converted.pop(k) for k in ("description", "default") if k in converted}
    return {**described, "anyOf": [converted, {"$ref": f"#/definitions/{SECRET}"}]}


def _is_secret(node: dict[str, Any]) -> bool:
    if node.get("format") == "password":
        return True
    # An optional secret: TOML has no null, so only the secret branch counts.
    branches = [n for n in node.get("anyOf", []) if isinstance(n, dict) and n.get("type") != "null"]
    return bool(branches) and all(_is_secret(n) for n in branches)


class _InputSchema(GenerateJsonSchema):
    """The schema of what a config may hold for a model: a field with a ``before``, ``plain``
    or ``wrap`` validator accepts more than its type says (``feeds = ["https://..."]`` for a
    list of tables), unless the validator declares its ``json_schema_input_type``."""

    def _lenient(self, schema: Any, declared: Any) -> JsonSchemaValue:
        if schema.get("json_schema_input_schema") is not None:
            return declared  # type: ignore[no-any-return]
        inner = self.generate_inner(schema["schema"]) if "schema" in schema else {}
        return {"anyOf": [inner, {"description": "(other forms accepted; see the plugin's docs)"}]}

    def model_schema(self, schema: Any) -> JsonSchemaValue:
        # Options are documented by docstrings under their fields (newsroom.config.fielddocs).
        generated = super().model_schema(schema)
        model = schema.get("cls")
        properties = generated.get("properties")
        if isinstance(model, type) and issubclass(model, BaseModel) and properties:
            docs = field_docs(model)
            for name, field in model.model_fields.items():
                prop = properties.get(field.alias or name)
                if name in docs and isinstance(prop, dict) and "description" not in prop:
                    prop["description"] = docs[name]
        return generated

    def function_before_schema(self, schema: Any) -> JsonSchemaValue:
        return self._lenient(schema, super().function_before_schema(schema))

    def function_wrap_schema(self, schema: Any) -> JsonSchemaValue:
        return self._lenient(schema, super().function_wrap_schema(schema))


def model_schema(
    model: type[BaseModel], prefix: str, definitions: dict[str, Any], secrets_allowed: bool
) -> dict[str, Any]:
    """``model``'s schema, its nested models moved into ``definitions`` under ``prefix``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # defaults that JSON cannot hold are left out
            raw = model.model_json_schema(
                ref_template=f"#/definitions/{prefix}{{model}}", schema_generator=_InputSchema
            )
    except Exception as exc:  # a type with no JSON Schema: keep the rest of the file useful
        return {"type": "object", "description": f"(no schema: {type(exc).__name__})"}
    for name, sub in raw.pop("$defs", {}).items():
        definitions[prefix + name] = _draft4(sub, secrets_allowed)
    return dict(_draft4(raw, secrets_allowed))


def _component(
    table: str, reg: Any, definitions: dict[str, Any], default_plugin: str | None
) -> dict[str, Any]:
    """One alternative of a component table: the core keys plus the plugin's options."""
    kind, name_key, core, _ = _KINDS[table]
    options = model_schema(reg.cls.Options, f"{kind}.{reg.name}.", definitions, True)
    properties = {key: dict(_CORE_KEYS[key]) for key in sorted(core)}
    properties["plugin"] = {**properties["plugin"], "enum": [reg.name]}
    properties.update(options.get("properties", {}))
    required = list(options.get("required", []))
    if reg.name != default_plugin:
        required.insert(0, "plugin")
    if table in ("sources", "sections"):
        required.insert(0, name_key)
    if table == "sections":
        required.append("title")
    doc = " ".join((reg.cls.description or reg.cls.__doc__ or "").split())
    schema: dict[str, Any] = {
        "type": "object",
        "description": f"{reg.name} ({reg.package}){': ' + doc if doc else ''}",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(dict.fromkeys(required))
    return schema


def config_schema(plugins: Plugins) -> dict[str, Any]:
    """The JSON Schema (draft 4) of a ``newsroom.toml`` for the plugins in ``plugins``."""
    from newsroom.config.mail import EmailConfig, MailboxConfig, SubscriptionsConfig

    definitions: dict[str, Any] = {SECRET: _SECRET_SCHEMA}
    properties: dict[str, Any] = {}
    for table, model, secrets_allowed in (
        ("newsletter", NewsletterConfig, False),
        ("http", HttpConfig, False),
        ("plugins", PluginsConfig, False),
        ("email", EmailConfig, True),
        ("subscriptions", SubscriptionsConfig, True),
        ("mailbox", MailboxConfig, True),
        ("publish", PublishConfig, True),
        ("state", StateConfig, True),
    ):
        properties[table] = model_schema(model, f"{table}.", definitions, secrets_allowed)
    properties["theme"] = {
        "type": "object",
        "description": "Overrides of the theme's settings (its theme.toml [settings]).",
    }
    for table, (kind, _, _, default_plugin) in _KINDS.items():
        registry = plugins.registry(kind)
        branches = [_component(table, reg, definitions, default_plugin) for reg in registry]
        one_of: dict[str, Any] = {"oneOf": branches} if branches else {"type": "object"}
        if table == "transport":
            properties[table] = {"description": "How `newsroom send` delivers.", **one_of}
        else:
            properties[table] = {
                "type": "array",
                "description": f"[[{table}]] tables; installed: {', '.join(registry.names())}.",
                "items": one_of,
            }
    return {
        "$schema": DRAFT,
        "title": "newsroom.toml",
        "description": "A newsroom newsletter (generated by `newsroom schema`).",
        "type": "object",
        "properties": properties,
        "required": ["newsletter", "sources"],
        "additionalProperties": False,
        "definitions": dict(sorted(definitions.items())),
    }
