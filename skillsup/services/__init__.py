"""The rules of the portal, as plain functions that take the acting user explicitly.

Services flush but never commit: the view or CLI command that called them commits once.
"""
