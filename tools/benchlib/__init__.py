"""Helpers of the box benchmark (tools/bench_box.py): process CPU and memory from /proc,
a stand-in SIP trunk that timestamps INVITEs, and a paced headless baresip."""
