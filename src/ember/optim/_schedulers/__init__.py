"""The learning-rate schedulers, grouped by kind; `ember.optim.lr_scheduler` is their public module."""
