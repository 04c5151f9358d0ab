"""The interfaces (Protocols) the core owns and adapters implement.

One module per kind of outside system. Adapters live in `providers/`, `sync/`,
`bot/` and `render/`; they import these, never the other way round.
"""
