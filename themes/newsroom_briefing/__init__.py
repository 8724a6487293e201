"""The briefing theme: a daily briefing's look (templates are data; this makes the folder a package)."""
