"""Hardware access only: line boards, GPIO, ALSA, serial. Never imports firmware."""
