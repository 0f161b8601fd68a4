"""The grants the token endpoint serves, a module each; ``base`` says what a grant is."""
