"""A small Django app for test_sdk.py: one model whose creation posts an event through hub.django."""
