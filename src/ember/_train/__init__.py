"""The pieces behind `ember train`: datasets as tasks, models, the training loop."""
