"""newsroom plugin: renderers."""
