"""The pages of the web setup page, one module per area; each exports ``routes``."""
