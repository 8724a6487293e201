"""newsroom plugin: github_trending."""
