"""One module per outside commerce system (stores and fulfillment providers),
each implementing a Protocol owned by the core (`podops.ports`).
"""
