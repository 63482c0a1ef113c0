"""Test support code shared by the test modules (loopback servers, page builders)."""
