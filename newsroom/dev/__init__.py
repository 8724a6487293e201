"""Local stand-ins for the services newsroom talks to, for development, tests and the
offline demo: an SMTP server that keeps what it receives (:mod:`.smtpsink`) and an
OpenAI-compatible model API (:mod:`.modelserver`). Nothing here is used in production."""
