"""Jailbreak and prompt-injection detector (risk code ``J``), Chinese and English.

Rules, not a model: each technique is a set of patterns written for hegui. Hidden payloads are
decoded first (base64, hex, reversed text, letters spaced or split across messages) and the decoded
text is checked again, both by the rules and, when one is given, by a risk scorer (the embedded
classifier by default) so that ``base64("how to make a bomb")`` is caught as an encoded payload.

Techniques (the finding's ``type``): ``instruction_override``, ``role_play_escape``,
``system_prompt_extraction``, ``safety_bypass``, ``prompt_injection_markup``, ``encoded_payload``,
``split_payload``.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hegui.detect.base import Direction, Finding

RULE_VERSION = "jailbreak-rules@1"

ScoreFn = Callable[[str], Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class _Rule:
    technique: str
    pattern: re.Pattern[str]
    score: float
    name: str
    needles: tuple[str, ...]  # the pattern can only match when one of these (casefolded) is in the text


def _r(technique: str, name: str, pattern: str, score: float = 1.0) -> _Rule:
    return _Rule(technique, re.compile(pattern, re.IGNORECASE | re.DOTALL), score, name, _NEEDLES[name])


# Cheap substring pre-checks: a rule's regex runs only when one of its words is present.
_NEEDLES: dict[str, tuple[str, ...]] = {
    "ignore-previous-en": ('ignore', 'disregard', 'forget', 'override', 'bypass', 'skip', 'drop'),
    "ignore-everything-en": ('ignore', 'disregard', 'forget'),
    "new-instructions-en": ('instruction', 'from now on'),
    "ignore-previous-zh": ('忽略', '无视', '忘记', '忘掉', '忽视', '抛开', '丢掉', '覆盖', '不要理会', '别管'),
    "only-obey-zh": ('从现在', '接下来'),
    "new-instructions-zh": ('指令', '设定'),
    "dan-en": ('dan', 'do anything'),
    "unrestricted-ai-en": ('unrestricted', 'uncensored', 'unfiltered', 'jailbroken', 'amoral', 'unlimited', 'evil'),
    "no-restrictions-en": ('restriction', 'limit', 'filter', 'rules', 'ethical', 'moral', 'content polic'),
    "dev-mode-en": ('mode',),
    "stay-in-character-en": ('character',),
    "never-refuse-en": ('refuse', 'decline', 'say no'),
    "grandma-en": ('grand',),
    "dan-zh": ('dan', '模式'),
    "unrestricted-zh": ('限制', '约束', '规则', '审查', '道德', '伦理', '底线', '过滤', '束缚'),
    "never-refuse-zh": ('拒绝', '说不', '回答', '照做', '满足'),
    "grandma-zh": ('扮演',),
    "reveal-prompt-en": ('prompt', 'instruction', 'message', 'directive'),
    "repeat-above-en": ('above', 'verbatim'),
    "reveal-prompt-zh": ('提示', '系统消息', '指令', '设定'),
    "verbatim-zh": ('原封不动', '一字不差', '逐字'),
    "disable-safety-en": ('safety', 'content', 'moderation', 'ethical'),
    "disable-safety-zh": ('安全', '内容', '审核', '道德'),
    "chat-markup": ('<|', '[inst]', '[/inst]', '<<sys>>', '#', 'begin system'),
}


_PREV_EN = (r"(?:all\s+|any\s+|the\s+|your\s+|of\s+)*"
            r"(?:previous|prior|above|earlier|preceding|former|original|initial|system)")
_INSTR_EN = r"(?:instructions?|prompts?|rules?|directives?|guidelines?|context|messages?|constraints?|programming)"
_PREV_ZH = r"(?:之前|以上|上面|前面|先前|此前|原来|原先|系统|你的|所有|全部|一切|的|\s)*"
_INSTR_ZH = r"(?:指令|指示|规则|设定|提示词?|要求|约束|限制|命令|对话|内容|规定)"

RULES: tuple[_Rule, ...] = (
    # instruction override
    _r("instruction_override", "ignore-previous-en",
       rf"\b(?:ignore|disregard|forget|override|bypass|skip|drop)\s+(?:about\s+)?{_PREV_EN}\s+{_INSTR_EN}"),
    _r("instruction_override", "ignore-everything-en",
       r"\b(?:ignore|disregard|forget)\s+(?:everything|all\s+that)\s+(?:you\s+(?:were|have\s+been)\s+told|above|before)"),
    _r("instruction_override", "new-instructions-en",
       r"\b(?:your\s+new\s+instructions\s+are|new\s+(?:system\s+)?instructions?\s*:|from\s+now\s+on,?\s+you\s+(?:will\s+)?only\s+"
       r"(?:obey|follow|listen\s+to)\s+me)", 0.9),
    _r("instruction_override", "ignore-previous-zh",
       rf"(?:忽略|无视|忘记|忘掉|忽视|抛开|丢掉|覆盖|不要理会|别管){_PREV_ZH}{_INSTR_ZH}"),
    _r("instruction_override", "only-obey-zh",
       r"(?:从现在(?:开始|起)|接下来)[，,\s]*你(?:只|只能|必须)(?:听|服从|遵守|听从)(?:我|我的)"),
    _r("instruction_override", "new-instructions-zh", r"(?:新的|最新)(?:系统)?(?:指令|设定)(?:如下|是)[:：]?", 0.8),
    # role-play escape
    _r("role_play_escape", "dan-en",
       r"\bDAN\b.{0,60}(?:do\s+anything|no\s+(?:rules|restrictions|limits))|\bdo\s+anything\s+now\b"),
    _r("role_play_escape", "unrestricted-ai-en",
       r"\b(?:you\s+are\s+now|act\s+as|pretend\s+(?:to\s+be|you\s+are)|roleplay\s+as|become)\s+(?:an?\s+)?"
       r"(?:\w+\s+){0,3}(?:unrestricted|uncensored|unfiltered|jailbroken|amoral|unlimited|evil)\b"),
    _r("role_play_escape", "no-restrictions-en",
       r"\b(?:with(?:out)?|have|has|no)\s+(?:any\s+)?(?:no\s+)?(?:restrictions|limits|limitations|filters|rules|"
       r"ethical\s+(?:guidelines|constraints)|moral\s+(?:guidelines|constraints)|content\s+polic(?:y|ies))\b"
       r".{0,80}\b(?:answer|respond|tell|explain|say|do|comply|write|produce)\b", 0.85),
    _r("role_play_escape", "dev-mode-en", r"\b(?:developer|god|jailbreak|sudo|debug|unlocked)\s+mode\b", 0.9),
    _r("role_play_escape", "stay-in-character-en",
       r"\bstay\s+in\s+character\b.{0,80}\b(?:no\s+matter|even\s+if|never\s+refuse)", 0.8),
    _r("role_play_escape", "never-refuse-en",
       r"\byou\s+(?:will\s+|must\s+|can\s+|should\s+)?(?:never|not|cannot|can't|won't|must\s+not)\s+"
       r"(?:ever\s+)?(?:refuse|decline|say\s+no)\b", 0.7),
    _r("role_play_escape", "grandma-en",
       r"\b(?:act|roleplay|pretend)\s+(?:as|to\s+be)\s+my\s+(?:late|dead|deceased)\s+grand(?:ma|mother|pa|father)",
       0.8),
    _r("role_play_escape", "dan-zh",
       r"你(?:现在)?(?:是|就是|扮演)\s*DAN|开发者模式|越狱模式|上帝模式|"
       r"无限制模式|不受审查的?模式"),
    _r("role_play_escape", "unrestricted-zh",
       r"你.{0,12}(?:没有|不受|无视|摆脱|解除)(?:任何|一切|所有)?(?:的)?"
       r"(?:限制|约束|规则|审查|道德|伦理|底线|过滤|束缚)|"
       r"(?:没有|不受)(?:任何|一切)(?:限制|约束|规则|审查|道德)的(?:AI|人工智能|助手|模型|机器人)", 0.85),
    _r("role_play_escape", "never-refuse-zh",
       r"你(?:永远)?(?:不能|不许|不准|不得|禁止|不可以)(?:拒绝|说不)|"
       r"你(?:都)?(?:必须|都要|一定要)(?:回答|照做|满足)", 0.7),
    _r("role_play_escape", "grandma-zh", r"扮演我(?:已故|去世|过世|死去)的(?:奶奶|外婆|爷爷|外公)", 0.8),
    # system prompt extraction
    _r("system_prompt_extraction", "reveal-prompt-en",
       r"\b(?:reveal|show|print|repeat|output|tell\s+me|give\s+me|display|leak|dump|what\s+(?:is|are|was|were))\s+"
       r"(?:me\s+)?(?:your|the)\s+(?:\w+\s+){0,2}(?:system|initial|original|hidden|secret|confidential|first)\s+"
       r"(?:prompt|instructions?|message|directives?)"),
    _r("system_prompt_extraction", "repeat-above-en",
       r"\brepeat\s+(?:the\s+)?(?:words|text|everything)\s+above\b|\bverbatim\b.{0,40}\b(?:prompt|instructions)\b"),
    _r("system_prompt_extraction", "reveal-prompt-zh",
       r"(?:输出|告诉我|显示|重复|打印|泄露|给我看|复述|说出|透露)(?:一下)?(?:你的|你收到的|你被给予的)?(?:.{0,6})?"
       r"(?:系统提示词?|系统消息|初始(?:指令|提示|设定)|提示词|隐藏(?:设定|指令)|系统设定|预设指令)"),
    _r("system_prompt_extraction", "verbatim-zh", r"(?:原封不动|一字不差|逐字)地?(?:输出|复述|重复)"),
    # safety bypass
    _r("safety_bypass", "disable-safety-en",
       r"\b(?:turn\s+off|disable|deactivate|remove|switch\s+off|bypass)\s+(?:all\s+)?(?:your\s+)?"
       r"(?:safety|content|moderation|ethical)\s+(?:filters?|guidelines|rules|checks|settings|protocols)"),
    _r("safety_bypass", "disable-safety-zh",
       r"(?:关闭|关掉|禁用|绕过|解除|去掉)(?:你的)?(?:所有)?(?:安全|内容|审核|道德)"
       r"(?:过滤|审核|规则|机制|限制|设置)?"),
    # injected chat-template markup (indirect injection inside documents)
    _r("prompt_injection_markup", "chat-markup",
       r"<\|im_start\|>\s*system|<\|system\|>|\[/?INST\]|<<SYS>>|<\|start_header_id\|>\s*system|"
       r"^\s*#{2,}\s*(?:system|instruction)s?\s*:?|\bBEGIN\s+SYSTEM\s+PROMPT\b", 0.9),
)

_SQUASHED = {
    "ignorepreviousinstructions": "instruction_override", "ignoreallpreviousinstructions": "instruction_override",
    "ignoreallinstructions": "instruction_override", "disregardpreviousinstructions": "instruction_override",
    "revealyoursystemprompt": "system_prompt_extraction", "developermode": "role_play_escape",
    "doanythingnow": "role_play_escape", "忽略之前的指令": "instruction_override",
    "忽略之前的所有指令": "instruction_override", "忽略以上所有指令": "instruction_override",
    "忽略以上指令": "instruction_override", "输出系统提示词": "system_prompt_extraction",
    "开发者模式": "role_play_escape", "你没有任何限制": "role_play_escape",
}
_DECODE_CUE = re.compile(
    r"\b(?:decode|decrypt|reverse|base64|hex)\b.{0,60}\b(?:follow|execute|obey|do\s+(?:it|what)|answer|comply)\b|"
    r"(?:解码|解密|反转|倒过来|base64|十六进制).{0,20}(?:执行|照做|回答|遵循|按.{0,4}做)", re.IGNORECASE | re.DOTALL)
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_B64URL = re.compile(r"(?<![A-Za-z0-9_\-=])[A-Za-z0-9_\-]{16,}={0,2}(?![A-Za-z0-9_\-=])")
_HEX = re.compile(r"(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s:,-]?){8,}")
# every payload pattern above needs 16 characters in a row of one of these alphabets: a text without
# such a run has nothing to decode (one cheap search instead of three that backtrack on plain prose)
_PAYLOAD_RUN = re.compile(r"[A-Za-z0-9+/=_\-]{16}|[0-9a-fA-F:,\\xX\s\-]{16}")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_SEVERITY = {"instruction_override": 3, "role_play_escape": 3, "system_prompt_extraction": 3, "safety_bypass": 3,
             "prompt_injection_markup": 2, "encoded_payload": 3, "split_payload": 3}


def _printable_ratio(s: str) -> float:
    if not s:
        return 0.0
    ok = sum(1 for ch in s if ch.isprintable() or ch in "\n\t")
    return ok / len(s)


def _try_text(raw: bytes) -> str | None:
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    s = s.strip()
    if len(s) < 4 or _printable_ratio(s) < 0.95 or not any(ch.isalpha() for ch in s):
        return None
    return s


def decode_payloads(text: str) -> list[tuple[str, int, int, str]]:
    """Hidden text found in ``text``: (encoding, start, end, decoded)."""
    if _PAYLOAD_RUN.search(text) is None:
        return []
    out: list[tuple[str, int, int, str]] = []
    seen: set[tuple[int, int]] = set()
    for enc, rx in (("base64", _B64), ("base64url", _B64URL)):
        for m in rx.finditer(text):
            if (m.start(), m.end()) in seen:
                continue
            tok = m.group(0)
            if tok.isdigit() or (tok.isalpha() and tok.islower()):
                continue  # a plain word or number, not an encoding
            padded = tok + "=" * (-len(tok) % 4)
            try:
                raw = base64.b64decode(padded, validate=True) if enc == "base64" else base64.urlsafe_b64decode(padded)
            except (binascii.Error, ValueError):
                continue
            dec = _try_text(raw)
            if dec is not None:
                seen.add((m.start(), m.end()))
                out.append(("base64", m.start(), m.end(), dec))
    for m in _HEX.finditer(text):
        digits = re.sub(r"\\x|0x|[\s:,-]", "", m.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        try:
            dec = _try_text(bytes.fromhex(digits))
        except ValueError:
            continue
        if dec is not None:
            out.append(("hex", m.start(), m.end(), dec))
    return out


@lru_cache(maxsize=1)
def _needle_index() -> tuple[Any, list[frozenset[int]]]:
    """One automaton over every rule's needles, and each rule's needle numbers: which rules may match
    comes from one pass over the text instead of a substring search per needle."""
    import ahocorasick_rs

    needles = sorted({n for rule in RULES for n in rule.needles})
    number = {n: i for i, n in enumerate(needles)}
    ac = ahocorasick_rs.AhoCorasick(needles, implementation=ahocorasick_rs.Implementation.DFA)
    return ac, [frozenset(number[n] for n in rule.needles) for rule in RULES]


def _squash(text: str) -> str:
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


class JailbreakDetector:
    """Detector for risk code ``J``. Thread-safe (holds no per-call state).

    ``scorer``: optional ``text → {risk code: score}`` applied to DECODED payloads only; by default the
    embedded classifier is loaded on first need. ``payload_threshold``: score at which a decoded
    payload counts as harmful.
    """

    name = "jailbreak"

    def __init__(self, scorer: ScoreFn | None = None, *, use_classifier: bool = True,
                 payload_threshold: float = 0.5) -> None:
        self._scorer = scorer
        self._use_classifier = use_classifier and scorer is None
        self.payload_threshold = payload_threshold

    def _score(self, text: str) -> Mapping[str, float]:
        if self._scorer is None and self._use_classifier:
            from hegui.detect.classifier import EmbeddedClassifier

            self._scorer = EmbeddedClassifier.load_default().scores
        return self._scorer(text) if self._scorer is not None else {}

    @staticmethod
    def _rules(text: str) -> list[tuple[_Rule, int, int]]:
        hits = []
        ac, needles_of = _needle_index()
        present = {i for i, _, _ in ac.find_matches_as_indexes(text.casefold(), overlapping=True)}
        for rule, needles in zip(RULES, needles_of, strict=True):
            if needles.isdisjoint(present):
                continue
            m = rule.pattern.search(text)
            if m:
                hits.append((rule, m.start(), m.end()))
        return hits

    def _plain(self, text: str, direction: Direction, squashed: bool = True) -> list[Finding]:
        out: list[Finding] = []
        for rule, s, e in self._rules(text):
            out.append(Finding(self.name, rule.technique, "J", _SEVERITY[rule.technique], s, e, text[s:e][:200],
                               rule.score, f"{RULE_VERSION}:{rule.name}"))
        nfkc = unicodedata.normalize("NFKC", text)
        if nfkc != text and not out:
            for rule, _, _ in self._rules(nfkc):
                out.append(Finding(self.name, rule.technique, "J", _SEVERITY[rule.technique], 0, len(text), "",
                                   rule.score, f"{RULE_VERSION}:{rule.name}:nfkc"))
        if not out and squashed:
            squashed_text = _squash(text)
            for key, technique in _SQUASHED.items():
                if key in squashed_text:
                    out.append(Finding(self.name, technique, "J", _SEVERITY[technique], 0, len(text), key, 0.9,
                                       f"{RULE_VERSION}:squashed"))
                    break
        return out

    def _hidden(self, text: str, *, check_reversed: bool = True, payload_run: bool = True) -> list[Finding]:
        """Payloads hidden by encoding or reversal; their decoded text is checked like plain text
        (``payload_run`` False: the caller knows there is nothing to decode)."""
        out: list[Finding] = []
        payloads = decode_payloads(text) if payload_run else []
        cue = bool(payloads) and _DECODE_CUE.search(text) is not None  # (a regex worth skipping on prose)
        for enc, s, e, dec in payloads:
            inner = self._rules(dec)
            if inner:
                tech = inner[0][0]
                out.append(Finding(self.name, "encoded_payload", "J", 3, s, e, f"{enc}:{dec[:120]}",
                                   1.0, f"{RULE_VERSION}:{enc}+{tech.name}"))
                continue
            risks = {k: v for k, v in self._score(dec).items() if k != "J" and v >= self.payload_threshold}
            if risks:
                top = max(risks, key=lambda k: risks[k])
                out.append(Finding(self.name, "encoded_payload", "J", 3, s, e, f"{enc}:{dec[:120]}",
                                   round(float(risks[top]), 4), f"{RULE_VERSION}:{enc}+classifier:{top}"))
            elif cue:
                out.append(Finding(self.name, "encoded_payload", "J", 2, s, e, f"{enc}:{dec[:120]}", 0.7,
                                   f"{RULE_VERSION}:{enc}+decode-cue"))
        if check_reversed and not out:
            rev = text[::-1]
            for rule, _, _ in self._rules(rev):
                out.append(Finding(self.name, "encoded_payload", "J", 3, 0, len(text), f"reversed:{rev[:120]}",
                                   rule.score, f"{RULE_VERSION}:reversed+{rule.name}"))
                break
        return out

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        if not text or not text.strip():
            return []
        return self._plain(text, direction) + self._hidden(text)

    def detect_screened(self, text: str, direction: Direction, *, payload_run: bool, squashed: bool) -> list[Finding]:
        """``detect``'s findings for a text a screen has looked at (the corpus audit's): ``payload_run``
        False says it has no 16 characters in a row of a payload alphabet (so ``decode_payloads`` finds
        nothing), ``squashed`` False that no squashed key is in its squashed form; the passes those
        would take over the whole text are skipped."""
        if not text or not text.strip():
            return []
        return self._plain(text, direction, squashed) + self._hidden(text, payload_run=payload_run)

    def detect_conversation(self, messages: Sequence[Mapping[str, str]] | Iterable[str]) -> list[Finding]:
        """Check each user message, then their concatenation for payloads split across messages.

        ``messages``: OpenAI-style dicts (only ``role == "user"`` content is joined) or plain strings.
        Findings on single messages keep offsets into that message (``rule`` names the index); split
        payloads span the joined text.
        """
        texts: list[str] = []
        for m in messages:
            if isinstance(m, str):
                texts.append(m)
            elif m.get("role", "user") == "user" and isinstance(m.get("content"), str):
                texts.append(m["content"])
        out: list[Finding] = []
        for i, t in enumerate(texts):
            for f in self.detect(t):
                out.append(Finding(f.detector, f.type, f.category, f.severity, f.start, f.end, f.match, f.score,
                                   f"{f.rule}@message{i}"))
        if len(texts) < 2:
            return out
        seen_types = {f.type for f in out}
        for sep in (" ", "", "\n"):
            joined = sep.join(t.strip() for t in texts)
            joined_findings = self._plain(joined, "input") + self._hidden(joined, check_reversed=False)
            new = [f for f in joined_findings if f.type not in seen_types]
            if new:
                for f in new:
                    out.append(Finding(f.detector, "split_payload", "J", 3, f.start, f.end, f.match, f.score,
                                       f"{f.rule}+split:{len(texts)}"))
                break
        return out
