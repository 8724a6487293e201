"""Exit codes of the ``newsroom`` command, stable for cron and CI alerting.

Documented in ``docs/cli.md``; change them only with a major version.
"""

OK = 0
#: Unexpected failure (a bug, or an error newsroom did not classify).
FAILURE = 1
#: Wrong command-line usage (click's own code).
USAGE = 2
#: The configuration file is missing, malformed or invalid.
CONFIG = 3
#: The edition was built, but with warnings, and ``--strict`` was given.
WARNINGS = 4
#: The edition could not be built or rendered (a filter, section or renderer failed,
#: or no source returned anything).
BUILD = 5
