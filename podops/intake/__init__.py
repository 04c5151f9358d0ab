"""Intake: orders entering podops from the stores (sync passes, webhook deliveries)
and the bookkeeping of what podops pushed back to them."""
