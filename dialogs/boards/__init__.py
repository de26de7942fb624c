"""A board: its set-up, roles and rounds, run from Teams (see dialogs/README.md)."""
