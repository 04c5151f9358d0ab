"""What people are told, decided in the core: which notices are queued (countdown
alerts, edit previews, the daily summary) and how each queued outbox message
becomes posts through the `Notifier` port. Slack and the console are adapters."""
