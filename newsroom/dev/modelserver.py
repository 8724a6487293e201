"""A local stand-in for a language model's HTTP API, for tests and the offline demo.

:class:`ModelServer` listens on 127.0.0.1 and speaks the OpenAI chat completions API
(``POST /v1/chat/completions``, streamed or not, and ``GET /v1/models``), the API that
``llm`` and most local model servers (Ollama, llama.cpp, vLLM) use. It answers every request
with what its ``answer`` function returns and records each request's JSON body, so a test
can read exactly what a model was sent. It runs no model: answers are written by whoever
starts it.

:func:`register_models` writes ``llm``'s ``extra-openai-models.yaml`` so that ``llm`` (and
the ``llm`` filter) reach the server under the given model ids.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsroom.dev.httpserver import BackgroundServer

#: ``answer(request)``: the text of the reply to one chat completion request.
Answer = Callable[["ChatRequest"], str]


@dataclass(frozen=True)
class ChatRequest:
    """One ``/v1/chat/completions`` request as the server received it."""

    body: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages")
        return messages if isinstance(messages, list) else []

    def text(self, role: str) -> str:
        """The text of every message with ``role`` (``system``, ``user``), joined."""
        parts = []
        for message in self.messages:
            if message.get("role") != role:
                continue
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(c.get("text", "")) for c in content if isinstance(c, dict))
        return "\n".join(parts)

    @property
    def prompt(self) -> str:
        """The user's text: what the model was asked."""
        return self.text("user")

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON Schema the answer was held to (``response_format``), if any."""
        fmt = self.body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            inner = fmt.get("json_schema")
            if isinstance(inner, dict) and isinstance(inner.get("schema"), dict):
                return inner["schema"]  # type: ignore[no-any-return]
        return None


class ModelServer(BackgroundServer):
    """An OpenAI-compatible chat completions server on 127.0.0.1 that answers with
    ``answer(request)``; use as a context manager."""

    MAX_BODY = 8 * 1024 * 1024

    def __init__(self, answer: Answer, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.answer = answer
        self.requests: list[ChatRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    server._json(self, 200, {"object": "list", "data": []})
                else:
                    server._json(self, 404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                server._completion(self)

        self._serve((host, port), Handler)

    @property
    def url(self) -> str:
        """The API base, as ``api_base`` wants it: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- serving ------------------------------------------------------------------------

    def _completion(self, req: http.server.BaseHTTPRequestHandler) -> None:
        if not req.path.rstrip("/").endswith("/chat/completions"):
            self._json(req, 404, {"error": {"message": f"no such endpoint: {req.path}"}})
            return
        length = int(req.headers.get("Content-Length") or 0)
        if length > self.MAX_BODY:
            self._json(req, 413, {"error": {"message": "request too large"}})
            return
        try:
            body = json.loads(req.rfile.read(length) or b"{}")
        except ValueError:
            self._json(req, 400, {"error": {"message": "the body is not JSON"}})
            return
        request = ChatRequest(body if isinstance(body, dict) else {})
        with self._lock:
            self.requests.append(request)
        try:
            text = self.answer(request)
        except Exception as exc:  # the answer function's failure is the API's 500
            self._json(req, 500, {"error": {"message": f"{type(exc).__name__}: {exc}"}})
            return
        created = int(time.time())
        ident = f"chatcmpl-{len(self.requests)}"
        if body.get("stream"):
            self._stream(req, ident, created, request.model, text)
            return
        self._json(
            req,
            200,
            {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": request.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(request, text),
            },
        )

    def _stream(
        self,
        req: http.server.BaseHTTPRequestHandler,
        ident: str,
        created: int,
        model: str,
        text: str,
    ) -> None:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return b"data: " + json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n\n"

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": text[i : i + 64]}) for i in range(0, len(text), 64)]
        events.append(chunk({}, "stop"))
        events.append(b"data: [DONE]\n\n")
        payload = b"".join(events)
        try:
            req.send_response(200)
            req.send_header("Content-Type", "text/event-stream")
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            req.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, req: http.server.BaseHTTPRequestHandler, status: int, data: Any) -> None:
        payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            req.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _usage(request: ChatRequest, text: str) -> dict[str, int]:
    asked = sum(len(str(m.get("content", ""))) for m in request.messages) // 4
    answered = len(text) // 4
    return {"prompt_tokens": asked, "completion_tokens": answered, "total_tokens": asked + answered}


def register_models(
    llm_user_dir: Path, api_base: str, models: dict[str, dict[str, Any]] | list[str]
) -> Path:
    """Write ``llm``'s ``extra-openai-models.yaml`` in ``llm_user_dir`` (``$LLM_USER_PATH``)
    so each model id reaches ``api_base``; ``models`` maps ids to extra settings (e.g.
    ``{"supports_schema": True}``). Returns the file written."""
    entries = models if isinstance(models, dict) else {m: {} for m in models}
    lines = []
    for model_id, extra in entries.items():
        entry = {"model_id": model_id, "model_name": model_id, "api_base": api_base, **extra}
        # JSON is YAML: no YAML writer needed.
        lines.append("- " + json.dumps(entry, ensure_ascii=False))
    llm_user_dir.mkdir(parents=True, exist_ok=True)
    path = llm_user_dir / "extra-openai-models.yaml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path
