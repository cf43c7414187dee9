"""What the domain logic needs (clients, stores, keys, settings, clock), built once per container."""
