"""The one adapter over pjsua2: endpoint, trunks, calls, RFC 4733 digits, and the media
bridge. No other package imports pjsua2 (the import rules enforce it)."""
