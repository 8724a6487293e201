"""The briefing theme: a daily briefing's look (templates are data; this is a package)."""
