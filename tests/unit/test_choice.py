from desk.llm.choice import fit, recommend

GB = 2**30


def _r(name, size_gb, kl, gen):
    return {"name": name, "size_bytes": int(size_gb * GB), "kv_cache_mb": 100,
            "kl_vs_reference": kl, "gen_tokens_per_s": gen}


def test_fit_levels():
    assert fit(1 * GB, 0, 8 * GB) == "fits"
    assert fit(6 * GB, 0, 8 * GB) == "tight"
    assert fit(9 * GB, 0, 8 * GB) == "won't fit"


def test_recommend_fastest_within_quality_threshold_that_fits():
    results = [_r("f16", 3, 0.0, 8), _r("q8", 1.6, 0.01, 14), _r("q4", 1.0, 0.04, 20),
               _r("q2", 0.7, 0.4, 25)]
    assert recommend(results, 16 * GB, max_kl=0.05) == "q4"
    assert recommend(results, 16 * GB, max_kl=0.02) == "q8"
    assert recommend(results, 16 * GB, max_kl=1.0) == "q2"
    assert recommend(results, 1 * GB, max_kl=1.0) is None
