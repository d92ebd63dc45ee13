"""Two-turn conversations over the NCP notices and the default notice, to measure follow-up questions
(``python -m eval.conversations.measure``); README.md says who wrote them and how."""
