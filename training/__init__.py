"""Training the project's reranker (``reranker/``): the team's questions (``data/``), the examples mined from them
over the training half of the NCP notices (``examples``), and the seeded training run (``python -m training.train``).

Nothing here is imported at serving time: the service reads a trained delta through ``reranker.model``.
"""
