"""Text features: script language, normalised exact hash, CJK-aware MinHash."""

from __future__ import annotations

from hegui.corpus.textstats import features, features_batch, minhash, shingles, similarity, tokens

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


def test_long_documents_are_processed_in_chunks_with_the_same_exact_hash(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    from hegui.corpus import textstats

    text = (EN + " ") * 40 + ZH * 20
    whole = features(text)
    monkeypatch.setattr(textstats, "LONG_DOC_CHARS", 1000)
    monkeypatch.setattr(textstats, "BATCH_CHARS", 500)
    chunked = features(text)
    tok, _ = tokens(text)
    assert chunked.exact_hash == whole.exact_hash == hashlib.blake2b(tok.tobytes(), digest_size=8).digest()
    assert chunked.lang == whole.lang and chunked.chars == len(text)
    assert similarity(chunked.signature, whole.signature) >= 0.8
    small = features_batch([ZH, EN, ZH + EN])  # several passes of at most BATCH_CHARS characters
    assert [f.exact_hash for f in small] == [features(t).exact_hash for t in (ZH, EN, ZH + EN)]
