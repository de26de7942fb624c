"""The conversation engine: plain inputs in, plain outputs out, no SDK types."""
