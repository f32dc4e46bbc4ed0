"""minipbx firmware: the exchange itself (see DESIGN.md for the layers)."""
