"""Certificates: the public verification page, PDF downloads and revocation."""
