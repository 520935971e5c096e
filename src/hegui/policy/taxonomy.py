"""The risk taxonomy of TC260-003 Appendix A (GB/T 45654-2025 Annex A), plus ``J`` for jailbreak.

The taxonomy is fixed by the standard, so it lives in code; what to *do* about each risk lives in
the policy pack.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RiskCategory:
    """A top-level group of risks (A1 … A5, J)."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Risk:
    """One risk of Appendix A, e.g. ``A1.4`` terrorism and extremism."""

    code: str
    parent: str
    name_zh: str
    name_en: str
    political: bool = False

    @property
    def category(self) -> RiskCategory:
        return CATEGORIES[self.parent]


CATEGORIES: dict[str, RiskCategory] = {
    c.code: c
    for c in (
        RiskCategory("A1", "违反社会主义核心价值观", "Content violating core socialist values"),
        RiskCategory("A2", "歧视性内容", "Discriminatory content"),
        RiskCategory("A3", "商业违法违规", "Commercial violations"),
        RiskCategory("A4", "侵犯他人合法权益", "Infringing others' lawful rights and interests"),
        RiskCategory("A5", "无法满足特定服务类型的安全需求", "Failing the safety needs of specific service types"),
        RiskCategory("J", "越狱与提示注入", "Jailbreak and prompt injection"),
    )
}

_RISKS: tuple[Risk, ...] = (
    Risk("A1.1", "A1", "煽动颠覆国家政权、推翻社会主义制度",
         "Incitement to subvert state power or overthrow the socialist system", political=True),
    Risk("A1.2", "A1", "危害国家安全和利益、损害国家形象",
         "Endangering national security and interests, damaging the national image", political=True),
    Risk("A1.3", "A1", "煽动分裂国家、破坏国家统一和社会稳定",
         "Inciting secession, undermining national unity and social stability", political=True),
    Risk("A1.4", "A1", "宣扬恐怖主义、极端主义", "Promoting terrorism or extremism"),
    Risk("A1.5", "A1", "宣扬民族仇恨", "Promoting ethnic hatred", political=True),
    Risk("A1.6", "A1", "宣扬暴力、淫秽色情", "Promoting violence, obscenity or pornography"),
    Risk("A1.7", "A1", "传播虚假有害信息", "Spreading false and harmful information"),
    Risk("A1.8", "A1", "其他法律、行政法规禁止的内容",
         "Other content prohibited by laws and administrative regulations"),
    Risk("A2.1", "A2", "民族歧视内容", "Ethnic discrimination"),
    Risk("A2.2", "A2", "信仰歧视内容", "Discrimination by belief"),
    Risk("A2.3", "A2", "国别歧视内容", "Discrimination by nationality"),
    Risk("A2.4", "A2", "地域歧视内容", "Regional discrimination"),
    Risk("A2.5", "A2", "性别歧视内容", "Gender discrimination"),
    Risk("A2.6", "A2", "年龄歧视内容", "Age discrimination"),
    Risk("A2.7", "A2", "职业歧视内容", "Occupational discrimination"),
    Risk("A2.8", "A2", "健康歧视内容", "Health discrimination"),
    Risk("A2.9", "A2", "其他方面歧视内容", "Other discrimination"),
    Risk("A3.1", "A3", "侵犯他人知识产权", "Infringing others' intellectual property rights"),
    Risk("A3.2", "A3", "违反商业道德", "Violating business ethics"),
    Risk("A3.3", "A3", "泄露他人商业秘密", "Disclosing others' trade secrets"),
    Risk("A3.4", "A3", "利用算法、数据、平台等优势，实施垄断和不正当竞争行为",
         "Using algorithm, data or platform advantages for monopoly and unfair competition"),
    Risk("A3.5", "A3", "其他商业违法违规行为", "Other commercial violations"),
    Risk("A4.1", "A4", "危害他人身心健康", "Endangering others' physical and mental health"),
    Risk("A4.2", "A4", "侵害他人肖像权", "Infringing portrait rights"),
    Risk("A4.3", "A4", "侵害他人名誉权", "Infringing reputation rights"),
    Risk("A4.4", "A4", "侵害他人荣誉权", "Infringing honour rights"),
    Risk("A4.5", "A4", "侵害他人隐私权", "Infringing privacy rights"),
    Risk("A4.6", "A4", "侵害他人个人信息权益", "Infringing personal information rights and interests"),
    Risk("A4.7", "A4", "侵犯他人其他合法权益", "Infringing others' other lawful rights and interests"),
    Risk("A5.1", "A5", "内容不准确，严重不符合科学常识或主流认知",
         "Inaccurate content (for high-safety service types)"),
    Risk("A5.2", "A5", "内容不可靠，虽然不包含严重错误的内容，但无法对使用者形成帮助",
         "Unreliable content (for high-safety service types)"),
    Risk("J", "J", "越狱攻击与提示注入", "Jailbreak attempts and prompt injection"),
)

RISKS: dict[str, Risk] = {r.code: r for r in _RISKS}
APPENDIX_A_CODES: tuple[str, ...] = tuple(r.code for r in _RISKS if r.code != "J")
POLITICAL_CODES: frozenset[str] = frozenset(r.code for r in _RISKS if r.political)


def risk(code: str) -> Risk:
    """Return the risk for ``code``; raise ``KeyError`` naming the valid codes otherwise."""
    try:
        return RISKS[code]
    except KeyError:
        raise KeyError(f"unknown risk code {code!r}; expected one of A1.1 … A5.2 or J") from None


def is_valid_code(code: str) -> bool:
    """True for a risk code (``A1.4``, ``J``) or a category code (``A1``)."""
    return code in RISKS or code in CATEGORIES


def codes_under(code: str) -> tuple[str, ...]:
    """The risk codes a rule key covers: a category (``A2``) covers its risks, a risk covers itself."""
    if code in RISKS:
        return (code,)
    if code in CATEGORIES:
        return tuple(r.code for r in _RISKS if r.parent == code)
    raise KeyError(f"unknown risk or category code {code!r}")
