"""ember's differentiable operations, one Function per class, grouped by kind."""
