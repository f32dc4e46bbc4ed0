"""Independent reference implementations (spandsp through ctypes) used by the tests."""
