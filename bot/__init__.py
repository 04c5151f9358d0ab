"""The Slack app: slash command, buttons, modals, alerts, App Home.

Thin handlers over the core's services; nothing here decides business rules.

Entry points for the composition root: `bot.http.routes(runtime)` (HTTP mode,
mounted in the web server), `bot.socket.socket_mode_handler(runtime)` (Socket
Mode) and `bot.app.create_app(runtime)`; scheduler jobs come from
`bot.home.jobs(runtime)` (App Home refresh); alerts and notices are queued by
`podops.notify` and drained by `sync.notify_job`.
"""
