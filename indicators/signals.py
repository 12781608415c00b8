"""Signals through which the apps above indicators add to its pages, without indicators importing them."""

from django.dispatch import Signal

# Sent by the sheet page with ``user``, ``region`` and ``indicators`` (the rows' Indicator objects)
# before rendering: a receiver may set attributes on the indicators for the template to show. The
# ledger sets ``indicator.measured_by``, the items of the region's ledgers each indicator measures.
sheet_indicators_shown = Signal()
