"""Configuration of the core-compiler tests (tests/core)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a test that takes seconds and much memory "
                            "(still part of the default run; deselect with -m 'not slow')")
