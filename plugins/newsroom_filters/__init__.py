"""newsroom plugin: filters."""
