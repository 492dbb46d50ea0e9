"""E-mail adapters: build messages as .eml files in an outbox, deliver them over SMTP."""
