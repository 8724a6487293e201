"""newsroom plugin: arxiv."""
