"""Real peers for end-to-end tests: a baresip softphone driven over ctrl_tcp, WAV tools."""
