"""Shipping labels for what the shop makes itself (the manual provider): the rate
rules, the parcel and origin a label is bought with, and the desk every channel
(CLI, Slack) asks. See docs/shipping.md, "Labels"."""
