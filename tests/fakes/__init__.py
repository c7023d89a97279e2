"""Fake Telegram Bot API and Twilio REST servers on 127.0.0.1 for offline tests."""
