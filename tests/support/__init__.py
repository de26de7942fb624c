"""Test helpers: a throwaway Redis, a fake Bot Connector, Teams-shaped activities, the bot as a
process."""
