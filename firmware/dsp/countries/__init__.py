"""Country profiles as TOML data (see firmware.dsp.profiles)."""
