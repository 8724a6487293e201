"""The default newsroom theme (templates are data; this file makes the folder a package)."""
