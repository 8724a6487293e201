"""``newsroom doctor``'s checks of sending through an email service
(newsroom.deliver.service_checks): no network, only the config, the environment and the key
file. The doctor's other parts (which fetch, connect or need [subscriptions]) are left out
with --skip."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from conftest import newsroom_cli
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

TOPIC = "arn:aws:sns:eu-west-1:123456789012:newsletter-feedback"


def write(root: Path, extra: str) -> Path:
    path = root / "newsroom.toml"
    path.write_text(
        '[newsletter]\ntitle = "Briefing"\n'
        '[[sources]]\nname = "n"\nplugin = "news"\nfeeds = ["http://127.0.0.1:9/x"]\n'
        '[email]\nfrom = "Briefing <briefing@news.example.org>"\n' + extra,
        "utf-8",
    )
    return path


def doctor(config: Path, **env: str) -> tuple[int, list[dict[str, Any]]]:
    clean = {k: "" for k in os.environ if k.startswith("AWS_")}
    others = ("sending", "sources", "mail", "links")
    skips = [arg for part in others for arg in ("--skip", part)]
    result = newsroom_cli(config, "doctor", "--json", *skips, env={**clean, **env})
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)["findings"]


def by_topic(findings: list[dict[str, Any]], topic: str) -> list[tuple[str, str]]:
    return [(f["level"], f["message"]) for f in findings if f["check"] == topic]


def test_ses_without_credentials_or_its_reports_is_told_what_is_missing(tmp_path: Path) -> None:
    config = write(tmp_path, '[transport]\nplugin = "ses"\n')
    code, findings = doctor(config)
    assert code == 12  # no region anywhere
    assert by_topic(findings, "region")[0][0] == "problem"
    assert by_topic(findings, "credentials")[0][0] == "warning"
    feedback = by_topic(findings, "feedback")
    assert feedback[0][0] == "warning" and 'plugin = "ses"' in feedback[0][1]

    config = write(
        tmp_path,
        '[transport]\nplugin = "ses"\nregion = "eu-west-1"\nconfiguration_set = "news"\n'
        f'[[feedback]]\nplugin = "ses"\ntopic_arns = ["{TOPIC}"]\n',
    )
    code, findings = doctor(
        config, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret-example"
    )
    assert code == 0
    assert by_topic(findings, "credentials") == [("ok", "AWS credentials are in the environment")]
    assert by_topic(findings, "feedback")[0][0] == "ok"
    assert "secret-example" not in json.dumps(findings)


def test_the_dkim_key_is_checked_against_the_from_domain(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "dkim.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    smtp = '[transport]\nplugin = "smtp"\nhost = "email-smtp.eu-west-1.amazonaws.com"\n'
    misaligned = write(tmp_path, smtp)
    text = misaligned.read_text("utf-8").replace(
        "[email]\n",
        '[email]\ndkim_key_file = "dkim.pem"\ndkim_selector = "news2026"\n'
        'dkim_domain = "other.example"\n',
    )
    misaligned.write_text(text, "utf-8")
    code, findings = doctor(misaligned)
    assert code == 12
    assert any(
        level == "problem" and "not the From domain" in m for level, m in by_topic(findings, "dkim")
    )
    # The SMTP relay is SES's: its reports need the ses receiver.
    assert 'plugin = "ses"' in by_topic(findings, "feedback")[0][1]

    misaligned.write_text(text.replace('dkim_domain = "other.example"\n', ""), "utf-8")
    code, findings = doctor(misaligned)
    assert code == 0
    ((level, message),) = by_topic(findings, "dkim")
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert level == "ok"
    assert "news2026._domainkey.news.example.org" in message
    assert f"p={base64.b64encode(public).decode()}" in message

    (tmp_path / "dkim.pem").write_text("not a key", "utf-8")
    code, findings = doctor(misaligned)
    assert code == 12 and "not an unencrypted PEM private key" in by_topic(findings, "dkim")[0][1]
