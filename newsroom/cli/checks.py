"""``newsroom check``: everything a build (and a send) would refuse, found without fetching."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from newsroom.config import Config, find_config, parse_config, read_toml
from newsroom.config.newsletter import plugins_for
from newsroom.core.errors import ConfigError
from newsroom.core.findings import Finding, Level
from newsroom.core.plugins import Plugins


@dataclass
class CheckReport:
    """What :func:`check_newsletter` found."""

    path: Path
    problems: list[str] = field(default_factory=list)
    """Everything that stops the newsletter from building; all of them, not the first."""
    warnings: list[str] = field(default_factory=list)
    """Plugins that failed to load but are not used by this config, and plugins that use a
    deprecated part of the hook API."""
    config: Config | None = None
    sending: list[Finding] = field(default_factory=list)
    """What sending needs (:mod:`newsroom.deliver.readiness`), when the newsletter sends:
    ``PROBLEM`` findings are also in ``problems``."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def builds(self) -> bool:
        """Whether the newsletter would build (sending aside)."""
        needs = {f.message for f in self.sending if f.level is Level.PROBLEM}
        return not [p for p in self.problems if p not in needs]


def check_newsletter(path: Path | None = None, plugins: Plugins | None = None) -> CheckReport:
    """Validate a newsletter as a build would, without fetching anything.

    The config, every plugin's options, the theme and the ``plugins_dir`` files are checked,
    and, for a newsletter that sends, everything ``newsroom send`` needs; nothing is
    requested over the network and nothing is written.
    """
    from newsroom.deliver.readiness import sending_findings, sends
    from newsroom.render.themes import load_theme

    config_path = find_config(path).resolve()
    report = CheckReport(config_path)
    try:
        data = read_toml(config_path)
    except ConfigError as exc:
        report.problems.extend(exc.problems)
        return report
    loaded, report.problems = plugins_for(data, config_path, plugins)
    try:
        report.config = parse_config(data, config_path, loaded)
    except ConfigError as exc:
        report.problems.extend(exc.problems)
    if report.config is not None and sends(report.config, data):
        # Everything `newsroom send` would refuse, all at once (it refuses them one by one).
        report.sending = sending_findings(report.config)
    newsletter = data.get("newsletter")
    theme = newsletter.get("theme", "default") if isinstance(newsletter, dict) else None
    settings = data.get("theme", {})
    if isinstance(theme, str):
        try:
            # [theme] as the render will resolve it: no unknown key, no value of another type.
            load_theme(theme, root=config_path.parent).resolve_settings(
                settings if isinstance(settings, dict) else {}
            )
        except ConfigError as exc:
            report.problems.extend(exc.problems)
    report.problems.extend(f.message for f in report.sending if f.level is Level.PROBLEM)
    loaded.all_registries()
    mentioned = "\n".join(report.problems)
    report.warnings = [
        failure.message() for failure in loaded.failures if failure.message() not in mentioned
    ] + [deprecation.message() for deprecation in loaded.deprecations]
    return report
