"""The composition root: the only part of podops (with `podops.cli`) that imports
adapters. `root.Runtime` builds the object graph from settings; `instance` is
`podops run`; `web` assembles the ASGI app; `demo` is `podops demo`."""
