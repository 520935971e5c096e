"""Text features: script language, normalised exact hash, CJK-aware MinHash."""

from __future__ import annotations

import itertools

import numpy as np

from hegui.corpus import textstats
from hegui.corpus.textstats import exact_hash, features, features_batch, minhash, shingles, similarity, tokens

ZH = "今天上午我们在图书馆讨论了城市公园的规划方案，大家认为应该增加更多的树木和长椅，方便老人和孩子休息。"
EN = ("The committee met on Tuesday to review the plan for the riverside park and agreed to add more trees, "
      "benches and a small playground for children near the old bridge. Residents asked for better lighting "
      "on the footpath, a drinking fountain at the north entrance, and bicycle racks beside the library, while "
      "the budget office warned that the maintenance costs would have to be shared with the district council.")


def test_language_by_script() -> None:
    assert features(ZH).lang == "zh"
    assert features(EN).lang == "en"
    assert features(ZH + " some English words").lang == "zh"
    assert features("これは日本語の文章です").lang == "other"
    assert features("12345 !!!").lang == "other"


def test_exact_hash_ignores_case_width_spacing_and_punctuation() -> None:
    base = features("Hello World 你好").exact_hash
    assert features("hello,  WORLD!! 你好。").exact_hash == base
    assert features("ｈｅｌｌｏ ｗｏｒｌｄ 你好").exact_hash == base
    assert features("hello world 您好").exact_hash != base


def test_chinese_edit_is_a_near_duplicate_and_other_text_is_not() -> None:
    edited = ZH.replace("图书馆", "博物馆")
    other = "昨天晚上的足球比赛非常精彩，主队在最后一分钟打进了制胜球，球迷们在看台上欢呼了很久才离开。"
    assert similarity(features(ZH).signature, features(edited).signature) >= 0.6
    assert similarity(features(ZH).signature, features(other).signature) < 0.2


def test_english_edit_is_a_near_duplicate() -> None:
    edited = EN.replace("Tuesday", "Wednesday")
    assert similarity(features(EN).signature, features(edited).signature) >= 0.6


def test_cjk_characters_and_latin_words_are_tokens() -> None:
    tok, _ = tokens("中文 word 字")
    assert tok.size == 4


def test_batch_equals_one_at_a_time() -> None:
    docs = [ZH, EN, "", "短", "a b", ZH + EN, "𠀀𠀁𠀂𠀃𠀄𠀅 rare"]
    for doc, f in zip(docs, features_batch(docs), strict=True):
        g = features(doc)
        assert f.exact_hash == g.exact_hash and f.lang == g.lang and (f.signature == g.signature).all()
        tok, _ = tokens(doc)
        if tok.size:
            assert (minhash(shingles(tok)) == f.signature).all()


def _spec_exact_hash(tok: list[int]) -> bytes:
    """The exact hash as the textstats docstring states it, in plain Python integers."""
    mask = (1 << 64) - 1

    def mix(x: int) -> int:
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & mask
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & mask
        return x ^ (x >> 31)

    acc = sum(mix((t + i * int(textstats._EXACT_MUL)) & mask) for i, t in enumerate(tok)) & mask
    return mix((acc + mix((len(tok) + int(textstats._EXACT_SEED)) & mask)) & mask).to_bytes(8, "little")


def test_exact_hash_is_the_documented_function_of_the_token_stream() -> None:
    for doc in [ZH, EN, "", "!!!", "短", ZH + EN]:
        tok, _ = tokens(doc)
        assert features(doc).exact_hash == exact_hash(tok) == _spec_exact_hash(tok.tolist())
        assert len(features(doc).exact_hash) == 8


def test_same_token_stream_same_hash_and_different_streams_differ() -> None:
    same = ["Hello World 你好", "hello,  WORLD!! 你好。", "ＨＥＬＬＯ　ｗｏｒｌｄ，你好！", "«hello» — world ... 你好"]
    assert len({tokens(t)[0].tobytes() for t in same}) == 1  # the tokenizer folds them to one stream
    assert len({f.exact_hash for f in features_batch(same)}) == 1
    different = ["Hello World 你好", "World Hello 你好", "你好 Hello World", "Hello World", "Hello World 你好 你好",
                 "Hello World 你", "Hello", "", "Hello World 您好", "HelloWorld 你好", "Hello Wor ld 你好"]
    streams = [tokens(t)[0].tobytes() for t in different]
    assert len(set(streams)) == len(different)
    assert len({f.exact_hash for f in features_batch(different)}) == len(different)


def test_exact_hash_separates_permutations_and_prefixes() -> None:
    base = np.random.default_rng(1).integers(0, 2**64, 7, dtype=np.uint64, endpoint=False)
    seen = {exact_hash(base[list(p)]) for p in itertools.permutations(range(7))}  # 5040 orders
    prefixes = {exact_hash(base[:k]) for k in range(7)}  # k = 0..6, including the empty stream
    repeats = {exact_hash(np.repeat(base[:1], k)) for k in range(2, 50)}  # the same token k times
    assert len(seen) == 5040 and len(prefixes) == 7 and len(repeats) == 48
    assert not (seen & prefixes) and not (seen & repeats) and not (prefixes & repeats)


def test_exact_hash_avalanche() -> None:
    """Flipping one bit of one token flips each output bit with probability ~1/2."""
    rng = np.random.default_rng(2)
    flips = np.zeros(64)
    trials = 2000
    for _ in range(trials):
        tok = rng.integers(0, 2**64, int(rng.integers(1, 20)), dtype=np.uint64, endpoint=False)
        other = tok.copy()
        other[rng.integers(0, tok.size)] ^= np.uint64(1) << np.uint64(rng.integers(0, 64))
        a = int.from_bytes(exact_hash(tok), "little")
        b = int.from_bytes(exact_hash(other), "little")
        assert a != b  # one changed token never collides: each term is a bijection of its token
        flips += [(a ^ b) >> k & 1 for k in range(64)]
    rate = flips / trials
    assert rate.min() > 0.43 and rate.max() < 0.57  # ±~6 sigma around 1/2
    assert abs(rate.mean() - 0.5) < 0.01


def test_long_documents_are_processed_in_chunks_with_the_same_exact_hash(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = (EN + " ") * 40 + ZH * 20
    whole = features(text)
    tok, _ = tokens(text)
    for kernel in (textstats._kernel(), None):
        for size in (1000, 777, 50):  # chunks cut after any number of tokens, some chunks in the ZH part
            monkeypatch.setattr(textstats, "LONG_DOC_CHARS", size)
            monkeypatch.setattr(textstats, "BATCH_CHARS", 500)
            chunked = textstats._features_long(text, kernel)
            assert chunked.exact_hash == whole.exact_hash == exact_hash(tok) == _spec_exact_hash(tok.tolist())
            assert chunked.lang == whole.lang and chunked.chars == len(text)
            assert size == 50 or similarity(chunked.signature, whole.signature) >= 0.8  # shingles lost at cuts
    small = features_batch([ZH, EN, ZH + EN])  # several passes of at most BATCH_CHARS characters
    assert [f.exact_hash for f in small] == [features(t).exact_hash for t in (ZH, EN, ZH + EN)]
