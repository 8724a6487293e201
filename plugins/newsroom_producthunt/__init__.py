"""newsroom plugin: producthunt."""
