"""Learning sets across trusts, and peer review, as CST's governance framework describes them."""
