"""newsroom plugin: news."""
