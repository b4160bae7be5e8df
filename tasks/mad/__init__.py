"""The MAD synthetic tasks (Poli et al. 2024, "Mechanistic Design and Scaling of Hybrid Architectures"), one
registered task each: `mad_in_context_recall`, `mad_fuzzy_recall`, `mad_noisy_recall`, `mad_selective_copying`,
`mad_compression`, `mad_memorization`.

`base.py` holds what they share (the source, the vocabulary convention, the macro-averaged accuracy MAD scores
with, the chance rule, the multi-query key-value recall generator); each module holds its task's generator,
parameters and its departures from MAD-Lab's generator. The stand-alone `selective_copy` task (Gu & Dao 2023)
is a different generator of the same idea and stays.
"""
