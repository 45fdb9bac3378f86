"""Reading what the candidate says: questions, the facts they ask for, the stages they reason about."""
