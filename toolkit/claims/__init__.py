"""Claim files the practice is about to send: the 837P reader and the scrub writer."""
