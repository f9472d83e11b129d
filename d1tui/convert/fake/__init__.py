"""Fake rows (Faker, seeded) for any table schema."""
