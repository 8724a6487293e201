"""Whether sending through an email service is set up: checks that need no network, one
part of ``newsroom doctor``'s round (:mod:`newsroom.ops.doctor`).

:func:`service_findings` looks at the config and the environment only: the transport's
credentials, the receiver of the service's bounce and complaint reports, the reply
mailbox, and the DKIM key (readable, a private key, its selector and domain aligned with
the From address; the TXT record it needs is shown, since DNS itself is not asked).
"""

from __future__ import annotations

import base64
import os
from email.utils import parseaddr

from newsroom.config import Config
from newsroom.core.findings import Finding, Level

#: The receiver of each service's reports, by the transport that sends through it.
RECEIVER_OF = {"ses": "ses", "mailgun": "mailgun"}
#: SMTP relays of services that also report through a webhook, by a part of their host.
RELAYS = {
    "amazonaws.com": "ses",
    "mailgun.org": "mailgun",
    "postmarkapp.com": "postmark",
    "sendgrid.net": "sendgrid",
}


#: The levels these checks speak of, as the doctor reports them.
_LEVELS = {"ok": Level.OK, "info": Level.NOTE, "warning": Level.WARNING, "error": Level.PROBLEM}


def _finding(level: str, topic: str, message: str) -> Finding:
    return Finding(topic, _LEVELS[level], message)


def service_findings(config: Config, environ: dict[str, str] | None = None) -> list[Finding]:
    """Findings about sending through an email service, for ``newsroom doctor``."""
    env = dict(os.environ) if environ is None else environ
    findings: list[Finding] = []
    transport = config.transport.plugin if config.transport else ""
    options = config.transport.options if config.transport else None
    service = RECEIVER_OF.get(transport, "")
    if transport == "ses":
        findings.extend(_ses(options, env))
    elif transport == "smtp":
        host = str(getattr(options, "host", ""))
        service = next((s for part, s in RELAYS.items() if host.endswith(part)), "")
    findings.extend(_feedback(config, transport, service))
    findings.extend(_dkim(config, transport))
    return findings


def _ses(options: object, env: dict[str, str]) -> list[Finding]:
    out = []
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        out.append(_finding("ok", "credentials", "AWS credentials are in the environment"))
    elif env.get("AWS_PROFILE") or env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        out.append(_finding("ok", "credentials", "AWS credentials come from a profile or role"))
    else:
        out.append(
            _finding(
                "warning",
                "credentials",
                "no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment: sending "
                "works only on a machine with a role (EC2, ECS) that may use SES",
            )
        )
    if not (
        getattr(options, "region", "") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    ):
        out.append(
            _finding("error", "region", "no SES region: set [transport] region or AWS_REGION")
        )
    if not getattr(options, "configuration_set", ""):
        out.append(
            _finding(
                "info",
                "configuration set",
                "no [transport] configuration_set: bounces and complaints reach SNS only if "
                "the identity's notifications are set (docs/feedback.md)",
            )
        )
    return out


def _feedback(config: Config, transport: str, service: str) -> list[Finding]:
    out = []
    receivers = {c.plugin for c in config.feedback}
    if service:
        if any(r == service or r.startswith(f"{service}-") for r in receivers):
            out.append(
                _finding("ok", "feedback", f"the {service} reports are read (/webhooks/...)")
            )
        else:
            out.append(
                _finding(
                    "warning",
                    "feedback",
                    f"mail goes through {service}, but no [[feedback]] table reads its bounce "
                    f'and complaint reports: add one with plugin = "{service}" '
                    "(docs/feedback.md)",
                )
            )
    if config.mailbox is None:
        out.append(
            _finding(
                "info" if service else "warning",
                "mailbox",
                "no [mailbox]: bounces that come back by mail are not read, and List-"
                "Unsubscribe offers the https link only",
            )
        )
    else:
        out.append(_finding("ok", "mailbox", "the [mailbox] is read by newsroom mailbox and run"))
    if not config.subscriptions.webhook_secret and not config.feedback and transport != "file":
        out.append(
            _finding(
                "warning",
                "feedback",
                "no webhook reads bounce or complaint reports ([[feedback]] or "
                "[subscriptions] webhook_secret)",
            )
        )
    return out


def _dkim(config: Config, transport: str) -> list[Finding]:
    email = config.email
    _, sender = parseaddr(email.from_)
    from_domain = sender.rpartition("@")[2].lower()
    if not email.dkim_key_file:
        if transport in RECEIVER_OF:
            return [
                _finding(
                    "info",
                    "dkim",
                    f"no [email] dkim_key_file: {transport} signs with its own key when the "
                    "domain is set up for it there",
                )
            ]
        return [
            _finding(
                "warning",
                "dkim",
                "no [email] dkim_key_file: messages are not DKIM-signed by newsroom; "
                "large mailbox providers expect a signature aligned with the From domain",
            )
        ]
    path = config.root / email.dkim_key_file
    try:
        pem = path.read_bytes()
    except OSError as exc:
        return [_finding("error", "dkim", f"cannot read the DKIM key {path}: {exc.strerror}")]
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    except ImportError:
        return [_finding("info", "dkim", "install newsroom-digest[services] to check the DKIM key")]
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        return [_finding("error", "dkim", f"{path} is not an unencrypted PEM private key")]
    out = []
    if not email.dkim_selector:
        out.append(_finding("error", "dkim", "[email] dkim_key_file needs dkim_selector"))
        return out
    domain = (email.dkim_domain or from_domain).lower()
    aligned = from_domain == domain or from_domain.endswith(f".{domain}")
    if not aligned:
        out.append(
            _finding(
                "error",
                "dkim",
                f"the DKIM domain {domain} is not the From domain {from_domain} (or a parent "
                "of it): DMARC needs them aligned",
            )
        )
    if isinstance(key, rsa.RSAPrivateKey):
        kind = "rsa"
        if key.key_size < 1024:
            out.append(_finding("error", "dkim", f"the RSA key has {key.key_size} bits: use 2048"))
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        kind = "ed25519"
    else:
        return out + [_finding("error", "dkim", "the DKIM key must be RSA or Ed25519")]
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if kind == "ed25519":
        public = public[-32:]  # the raw key (RFC 8463)
    record = f"v=DKIM1; k={kind}; p={base64.b64encode(public).decode()}"
    out.append(
        _finding(
            "ok" if aligned else "info",
            "dkim",
            f"publish TXT {email.dkim_selector}._domainkey.{domain} = {record!r} (not checked "
            "against DNS)",
        )
    )
    return out
