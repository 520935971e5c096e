from hegui.policy.taxonomy import APPENDIX_A_CODES, CATEGORIES, POLITICAL_CODES, RISKS, codes_under, risk


def test_appendix_a_has_31_risks_plus_jailbreak() -> None:
    assert len(APPENDIX_A_CODES) == 31
    assert set(RISKS) == {*APPENDIX_A_CODES, "J"}


def test_risk_counts_per_category_match_the_standard() -> None:
    counts = {c: len(codes_under(c)) for c in CATEGORIES}
    assert counts == {"A1": 8, "A2": 9, "A3": 5, "A4": 7, "A5": 2, "J": 1}


def test_codes_and_names() -> None:
    assert risk("A1.4").name_zh == "宣扬恐怖主义、极端主义"
    assert risk("A2.5").name_en == "Gender discrimination"
    assert risk("A4.6").category.name_zh == "侵犯他人合法权益"
    assert all(r.name_zh and r.name_en for r in RISKS.values())


def test_political_slots_are_the_four_a1_political_risks() -> None:
    assert {"A1.1", "A1.2", "A1.3", "A1.5"} == POLITICAL_CODES


def test_unknown_code_names_the_valid_ones() -> None:
    try:
        risk("A9.9")
    except KeyError as err:
        assert "A1.1" in str(err)
    else:  # pragma: no cover
        raise AssertionError("expected KeyError")
