"""Scheduler jobs and sheet adapters: store polling, countdown, sheet mirror,
tracking import, outbox drain, daily summary. Jobs are thin wrappers over core services.
"""
