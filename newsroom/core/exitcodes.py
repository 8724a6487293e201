"""Exit codes of the ``newsroom`` command, stable for cron and CI alerting.

Documented in ``docs/cli.md``; change them only with a major version.
"""

OK = 0
#: Unexpected failure (a bug, or an error newsroom did not classify); or what the
#: environment lacks: a state file that cannot be opened, a failed pip, a missing extra.
FAILURE = 1
#: Wrong command-line usage (click's own code), or a value given on the command line that
#: cannot be used: a missing or malformed file, an invalid or suppressed address.
USAGE = 2
#: The configuration file is missing, malformed or invalid.
CONFIG = 3
#: The edition was built, but with warnings, and ``--strict`` was given.
WARNINGS = 4
#: The edition could not be built or rendered (a filter, section or renderer failed,
#: or no source returned anything).
BUILD = 5
#: ``newsroom send`` stopped before the end (the server refused the sender or could not be
#: reached, too many rejections in a row, Ctrl-C); nothing is lost: run it again to resume.
SEND_FAILED = 6
#: The send went through the list, but some messages failed temporarily every time they
#: were tried; the next ``newsroom send`` tries them again.
SEND_INCOMPLETE = 7
#: Another ``newsroom send`` or ``newsroom run`` holds the newsletter's lock.
LOCKED = 8
#: Every message was delivered or refused for good; some addresses bounced (they are now
#: marked ``bounced`` and get no more mail).
SEND_BOUNCES = 9
#: ``[email] require_approval`` is on and the edition, as rendered now, was not approved
#: with ``newsroom approve`` (or changed after it was).
NOT_APPROVED = 10
#: Every message was handed over, but for some the server never answered the end of the
#: message: they may or may not have arrived (``newsroom deliveries EDITION --status
#: uncertain``). They are sent again only with ``newsroom send --resend-uncertain``.
SEND_UNCERTAIN = 11
#: A check found a problem: ``newsroom review`` (an error in the edition: a story twice, a
#: subject spam filters score, an email Gmail clips, an image without alt text),
#: ``newsroom doctor`` or ``newsroom theme check`` (something that stops a send, a source or
#: the email as it stands); each is printed with what to do. With ``[email]
#: require_review``, ``newsroom send`` and ``newsroom run`` hold an edition whose review has
#: errors and exit with this code.
CHECK_PROBLEMS = 12
#: The same code, under the name ``newsroom review`` first used for it.
REVIEW_ERRORS = CHECK_PROBLEMS
#: Interrupted (Ctrl-C); run the same command again to resume.
INTERRUPTED = 130
