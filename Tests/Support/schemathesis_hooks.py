"""Loaded before schemathesis runs Kiln's document (Tests/KilnServerTests/OpenAPITests.swift).

tus chunks are `application/offset+octet-stream`, a media type schemathesis has no
generator for: give it small byte strings.
"""
from hypothesis import strategies as st
import schemathesis

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=256))
