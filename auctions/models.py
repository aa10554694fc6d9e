"""Auctions: bids and the lot event log arrive with the live-auctions issue."""
