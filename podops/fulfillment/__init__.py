"""Fulfillment: orders leaving for their providers exactly once and coming back.

The countdown and submission worker (`countdown.Submitter`), claims and due
orders (`claim`), one provider call with lookup-before-retry (`attempt`), what
each fulfillment's provider answered (`answers`) and where out-of-stock lines
go instead (`fallback`), the providers as configured (`roster`), tracking and
cancellation after submission (`followup`, `tracking`), limits and outages,
provider callbacks, print files and late design changes.
"""
