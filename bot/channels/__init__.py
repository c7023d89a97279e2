"""Channel adapters: each translates one provider's HTTP to and from Relais messages."""
