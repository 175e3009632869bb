"""Real peers for end-to-end tests: a baresip softphone driven over ctrl_tcp, WAV tools,
SIPp (scenarios and runs), sipsak, pstnsim's control socket, and tandemd itself as the tests
set it up (peers.gateway)."""
