"""The service's HTML pages: one small layout, strings per language, Jinja2 autoescape."""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "signup_title": "Subscribe",
        "signup_intro": "Get every edition of {title} by email.",
        "email": "Email address",
        "name": "Name (optional)",
        "subscribe": "Subscribe",
        "invalid_email": "That does not look like an email address. Please check it.",
        "check_inbox_title": "Check your inbox",
        "check_inbox": "If the address can receive {title}, a message with a confirmation "
        "link is on its way to it. Open it to finish subscribing.",
        "thanks_title": "Thank you",
        "thanks": "You will receive the next edition of {title}. If this address had "
        "unsubscribed before, we sent it a confirmation link first.",
        "send_failed_title": "Please try again later",
        "send_failed": "We could not send the confirmation email just now. Nothing was "
        "changed; please try again in a few minutes.",
        "too_many_title": "Too many signups",
        "too_many": "Too many signups came from your network. Please try again later.",
        "confirm_title": "Confirm your subscription",
        "confirm_intro": "Press the button to start receiving {title}.",
        "confirm_button": "Confirm my subscription",
        "confirmed_title": "Subscription confirmed",
        "confirmed": "You are subscribed to {title}. Welcome!",
        "unsubscribe_title": "Unsubscribe",
        "unsubscribe_intro": "Press the button to stop receiving {title} at {email}.",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribed_title": "You are unsubscribed",
        "unsubscribed": "You will not receive {title} any more.",
        "invalid_title": "This link does not work",
        "invalid": "The link is damaged or was not made by {title}. Copy the whole link "
        "from the email, or sign up again.",
        "expired": "This confirmation link has expired. Please sign up again.",
        "link_used": "This confirmation link was already used, or it has expired. If you "
        "are not subscribed yet, please sign up again.",
        "unknown_title": "No such subscriber",
        "unknown": "There is no subscriber for this link any more (the data may have been erased).",
        "preferences_title": "Your subscription",
        "status": "Status",
        "status_active": "subscribed",
        "status_pending": "waiting for confirmation",
        "status_unsubscribed": "unsubscribed",
        "status_bounced": "paused: messages to this address bounced",
        "status_complained": "paused: an edition was reported as spam",
        "save": "Save",
        "saved": "Your changes are saved.",
        "resubscribe_button": "Subscribe again",
        "data_title": "Your data",
        "data_intro": "Download everything stored about you, as JSON.",
        "data_button": "Download my data",
        "erase_title": "Erase your data",
        "erase_intro": "Delete your subscription and everything stored about you. Only a "
        "one-way hash of the address is kept, so that it is never mailed again, not even "
        "a confirmation when someone signs it up.",
        "erase_button": "Erase all my data",
        "erased_title": "Your data is erased",
        "erased": "Everything stored about you was deleted.",
        "signup_again": "Sign up again",
        "mail_subject": "Confirm your subscription to {title}",
        "mail_body": "Someone, hopefully you, asked to receive {title} at this address. "
        "To confirm, open this link:",
        "mail_ignore": "If it was not you, ignore this message: nothing is sent to you "
        "without your confirmation. The link expires in {hours} hours.",
    },
    "ko": {
        "signup_title": "구독하기",
        "signup_intro": "{title}의 모든 호를 이메일로 받아 보세요.",
        "email": "이메일 주소",
        "name": "이름 (선택)",
        "subscribe": "구독",
        "invalid_email": "이메일 주소가 올바르지 않습니다. 다시 확인해 주세요.",
        "check_inbox_title": "메일함을 확인해 주세요",
        "check_inbox": "이 주소로 {title}을(를) 받을 수 있다면 확인 링크가 담긴 메일이 곧 "
        "도착합니다. 링크를 열어 구독을 마쳐 주세요.",
        "thanks_title": "감사합니다",
        "thanks": "다음 호부터 {title}을(를) 받아 보실 수 있습니다. 이전에 구독을 해지한 "
        "주소라면 먼저 확인 링크를 보내 드렸습니다.",
        "send_failed_title": "잠시 후 다시 시도해 주세요",
        "send_failed": "지금은 확인 메일을 보내지 못했습니다. 아무것도 바뀌지 않았으니 몇 분 "
        "뒤에 다시 시도해 주세요.",
        "too_many_title": "구독 요청이 너무 많습니다",
        "too_many": "같은 네트워크에서 구독 요청이 너무 많이 왔습니다. 잠시 후 다시 시도해 주세요.",
        "confirm_title": "구독 확인",
        "confirm_intro": "아래 버튼을 누르면 {title} 구독이 시작됩니다.",
        "confirm_button": "구독 확인",
        "confirmed_title": "구독이 확인되었습니다",
        "confirmed": "{title}을(를) 구독하셨습니다. 환영합니다!",
        "unsubscribe_title": "구독 해지",
        "unsubscribe_intro": "아래 버튼을 누르면 {email}(으)로 {title}이(가) 더 이상 "
        "발송되지 않습니다.",
        "unsubscribe_button": "구독 해지",
        "unsubscribed_title": "구독이 해지되었습니다",
        "unsubscribed": "더 이상 {title}을(를) 보내 드리지 않습니다.",
        "invalid_title": "사용할 수 없는 링크입니다",
        "invalid": "링크가 손상되었거나 {title}에서 만든 링크가 아닙니다. 메일의 링크 전체를 "
        "복사하거나 다시 구독해 주세요.",
        "expired": "확인 링크의 유효 기간이 지났습니다. 다시 구독해 주세요.",
        "link_used": "이미 사용했거나 유효 기간이 지난 확인 링크입니다. 아직 구독 중이 "
        "아니라면 다시 구독해 주세요.",
        "unknown_title": "구독자를 찾을 수 없습니다",
        "unknown": "이 링크에 해당하는 구독자가 없습니다 (데이터가 삭제되었을 수 있습니다).",
        "preferences_title": "구독 설정",
        "status": "상태",
        "status_active": "구독 중",
        "status_pending": "확인 대기 중",
        "status_unsubscribed": "구독 해지됨",
        "status_bounced": "일시 중지: 이 주소로 보낸 메일이 반송되었습니다",
        "status_complained": "일시 중지: 스팸으로 신고되었습니다",
        "save": "저장",
        "saved": "변경 사항을 저장했습니다.",
        "resubscribe_button": "다시 구독하기",
        "data_title": "내 데이터",
        "data_intro": "저장된 내 정보를 모두 JSON 파일로 내려받습니다.",
        "data_button": "내 데이터 내려받기",
        "erase_title": "내 데이터 삭제",
        "erase_intro": "구독과 저장된 모든 정보를 삭제합니다. 누가 이 주소로 구독을 신청해도 "
        "확인 메일조차 가지 않도록 주소의 단방향 해시만 남깁니다.",
        "erase_button": "내 데이터 모두 삭제",
        "erased_title": "데이터가 삭제되었습니다",
        "erased": "저장된 정보를 모두 삭제했습니다.",
        "signup_again": "다시 구독하기",
        "mail_subject": "{title} 구독을 확인해 주세요",
        "mail_body": "이 주소로 {title}을(를) 받겠다는 요청이 있었습니다. 본인이 요청하셨다면 "
        "아래 링크를 열어 확인해 주세요:",
        "mail_ignore": "요청하지 않으셨다면 이 메일을 무시하세요. 확인하지 않으면 아무것도 "
        "발송되지 않습니다. 링크는 {hours}시간 동안 유효합니다.",
    },
}

_LAYOUT = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{ heading }} · {{ title }}</title>
<style>
body { font: 16px/1.6 system-ui, sans-serif; max-width: 34rem; margin: 2rem auto;
  padding: 0 1rem; color: #1f2937; background: #fff; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
label { display: block; margin-top: .75rem; font-weight: 600; }
input[type=email], input[type=text] { width: 100%; padding: .5rem; font: inherit;
  border: 1px solid #9ca3af; border-radius: 4px; box-sizing: border-box; }
button { margin-top: 1rem; padding: .5rem 1rem; font: inherit; border: 0;
  border-radius: 4px; background: #1d4ed8; color: #fff; cursor: pointer; }
button.danger { background: #b91c1c; }
.error { color: #b91c1c; } .note { color: #4b5563; }
.hp { position: absolute; left: -10000px; }
</style>
</head>
<body>
<main>
<p class="note">{{ title }}</p>
<h1>{{ heading }}</h1>
{% block content %}{% endblock %}
</main>
</body>
</html>
"""

_TEMPLATES = {
    "layout.html": _LAYOUT,
    "message.html": """{% extends "layout.html" %}{% block content %}
<p{% if error %} class="error" role="alert"{% endif %}>{{ text }}</p>
{% if link %}<p><a href="{{ link }}">{{ link_text }}</a></p>{% endif %}
{% endblock %}""",
    "signup.html": """{% extends "layout.html" %}{% block content %}
<p>{{ s.signup_intro }}</p>
{% if error %}<p class="error" role="alert" id="error">{{ error }}</p>{% endif %}
<form method="post" action="{{ base }}subscribe">
<label for="email">{{ s.email }}</label>
<input type="email" id="email" name="email" required autocomplete="email"
  value="{{ email }}"{% if error %} aria-describedby="error" aria-invalid="true"{% endif %}>
<label for="name">{{ s.name }}</label>
<input type="text" id="name" name="name" autocomplete="name" maxlength="64" value="{{ name }}">
<div class="hp" aria-hidden="true"><label for="website">Website</label>
<input type="text" id="website" name="website" tabindex="-1" autocomplete="off"></div>
<button type="submit">{{ s.subscribe }}</button>
</form>
{% endblock %}""",
    "button.html": """{% extends "layout.html" %}{% block content %}
<p>{{ text }}</p>
<form method="post" action="{{ action }}">
<button type="submit">{{ button }}</button>
</form>
{% endblock %}""",
    "preferences.html": """{% extends "layout.html" %}{% block content %}
{% if saved %}<p role="status">{{ s.saved }}</p>{% endif %}
<p>{{ sub.email }}<br>{{ s.status }}: {{ status_text }}</p>
<form method="post" action="{{ base }}preferences/{{ token }}">
<label for="name">{{ s.name }}</label>
<input type="text" id="name" name="name" autocomplete="name" maxlength="64"
  value="{{ sub.name }}">
<button type="submit">{{ s.save }}</button>
</form>
{% if sub.status in ("active", "pending") %}
<h2>{{ s.unsubscribe_title }}</h2>
<form method="post" action="{{ base }}unsubscribe/{{ token }}">
<button type="submit">{{ s.unsubscribe_button }}</button>
</form>
{% elif sub.status == "unsubscribed" %}
<form method="post" action="{{ base }}preferences/{{ token }}/resubscribe">
<button type="submit">{{ s.resubscribe_button }}</button>
</form>
{% endif %}
<h2>{{ s.data_title }}</h2>
<p>{{ s.data_intro }}</p>
<p><a href="{{ base }}preferences/{{ token }}/data" download>{{ s.data_button }}</a></p>
<h2>{{ s.erase_title }}</h2>
<p>{{ s.erase_intro }}</p>
<form method="post" action="{{ base }}preferences/{{ token }}/erase">
<button type="submit" class="danger">{{ s.erase_button }}</button>
</form>
{% endblock %}""",
}

_ENV = Environment(
    loader=DictLoader(_TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def language(code: str) -> str:
    """The page language for a newsletter's ``language`` (``ko-KR`` → ``ko``)."""
    base = code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in STRINGS else "en"


class Strings:
    """One language's strings, ``{title}`` and friends filled in on access."""

    def __init__(self, code: str, **values: object) -> None:
        self.table = STRINGS[language(code)]
        self.values: dict[str, object] = {**values, "lang": language(code)}

    def __getattr__(self, key: str) -> str:
        return self.get(key)

    def get(self, key: str, **extra: object) -> str:
        text = self.table.get(key) or STRINGS["en"][key]
        return text.format(**self.values, **extra)


def render(template: str, strings: Strings, heading: str, **context: Any) -> str:
    page = _ENV.get_template(template)
    return page.render(
        lang=strings.values["lang"],
        title=strings.values.get("title", ""),
        heading=heading,
        s=strings,
        **context,
    )
